-- wrk script: the search mix of crates/index/benches/search.rs over HTTP.
--
--   wrk -t2 -c16 -d30s --latency -s bench/search_mix.lua http://127.0.0.1:8080
--
-- 80% of requests carry query text (a typo, a phrase, an exclusion and an OR among them),
-- every request two filters, as a learner narrows a search. The list is drawn once with a
-- fixed seed; each wrk thread walks it from its own offset.

local words = {
  "preservation", "digital collections", "grant writing", "cataloging", "copyright",
  "disaster planning", "leadership", "storytime", "accessibility", "metadata",
  "volunteer management", "project management", "presevation", "professional development",
  "fair use", "\"collections care\"", "records -retention", "oral history OR exhibits",
}

local function encode(s)
  return (s:gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- The window end of the fourth filter pair: 60 days from when the run starts.
local to = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 60 * 86400)
local filters = {
  "modality=online&free=true",
  "sector=museums&credits=true",
  "topic=preservation&modality=online",
  "sector=libraries&to=" .. encode(to),
}

math.randomseed(9)
local paths = {}
for i = 1, 1000 do
  local p = "/api/v1/offerings?" .. filters[math.random(#filters)]
  if math.random(5) > 1 then
    p = p .. "&q=" .. encode(words[math.random(#words)])
  end
  paths[i] = p
end

local counter = 0
local thread_offset = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_offset", next_thread * 500)
  next_thread = next_thread + 1
end

function request()
  counter = counter + 1
  local p = paths[((thread_offset + counter) % #paths) + 1]
  return wrk.format("GET", p)
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
  end
end
