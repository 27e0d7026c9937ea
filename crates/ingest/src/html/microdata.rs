//! HTML microdata (`itemscope`/`itemtype`/`itemprop`) turned into JSON-LD-shaped values, so one
//! schema.org reader serves both syntaxes.

use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node};
use serde_json::{Map, Value};

/// Every top-level item of the page (items that are no other item's property), in document
/// order, each with its nested items. Items nested deeper than `max_depth` become text.
pub(crate) fn items(doc: &Html, max_depth: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for node in doc.tree.root().descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if el.value().attr("itemscope").is_none() {
            continue;
        }
        // An itemscope with an itemprop inside another item is that item's property; an
        // itemprop with no item above it is top-level after all.
        let is_property = el
            .value()
            .attr("itemprop")
            .is_some_and(|p| !p.trim().is_empty())
            && el.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| e.attr("itemscope").is_some())
            });
        if !is_property {
            out.push(item(el, max_depth));
        }
    }
    out
}

fn item(el: ElementRef<'_>, depth_left: usize) -> Value {
    let mut map = Map::new();
    if let Some(types) = el.value().attr("itemtype") {
        let types: Vec<Value> = types
            .split_whitespace()
            .map(|t| Value::String(t.to_string()))
            .collect();
        if !types.is_empty() {
            map.insert("@type".into(), Value::Array(types));
        }
    }
    if let Some(id) = el
        .value()
        .attr("itemid")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        map.insert("@id".into(), Value::String(id.to_string()));
    }
    // Properties: descendants up to (not into) nested items, walked with an explicit stack.
    let mut stack: Vec<NodeRef<'_, Node>> = el.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(child) = ElementRef::wrap(node) else {
            continue;
        };
        let scoped = child.value().attr("itemscope").is_some();
        if let Some(props) = child.value().attr("itemprop") {
            let value = if scoped {
                if depth_left == 0 {
                    Value::String(text_of(child))
                } else {
                    item(child, depth_left - 1)
                }
            } else {
                Value::String(property_value(child))
            };
            for name in props.split_whitespace() {
                add(&mut map, name, value.clone());
            }
        }
        if !scoped {
            let mut kids: Vec<_> = node.children().collect();
            kids.reverse();
            stack.extend(kids);
        }
    }
    Value::Object(map)
}

fn add(map: &mut Map<String, Value>, name: &str, value: Value) {
    match map.get_mut(name) {
        None => {
            map.insert(name.to_string(), value);
        }
        Some(Value::Array(a)) => a.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

/// The value of an itemprop element, as the microdata spec and extruct read it.
fn property_value(el: ElementRef<'_>) -> String {
    let e = el.value();
    if let Some(c) = e.attr("content") {
        return c.trim().to_string();
    }
    let attr = match e.name() {
        "audio" | "embed" | "iframe" | "img" | "source" | "track" | "video" => "src",
        "a" | "area" | "link" => "href",
        "object" => "data",
        "data" | "meter" => "value",
        "time" => "datetime",
        _ => "",
    };
    if !attr.is_empty()
        && let Some(v) = e.attr(attr)
    {
        return v.trim().to_string();
    }
    text_of(el)
}

/// Text content without script and style contents (scraper's `text()` includes them).
pub(crate) fn text_of(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut stack: Vec<NodeRef<'_, Node>> = vec![*el];
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) if matches!(e.name(), "script" | "style" | "template") => continue,
            _ => {}
        }
        let mut kids: Vec<_> = node.children().collect();
        kids.reverse();
        stack.extend(kids);
    }
    coalesce_core::normalize::squash_whitespace(&out)
}
