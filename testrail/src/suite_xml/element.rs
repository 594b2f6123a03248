//! A small element tree read with quick-xml's pull reader: names, children and text are all
//! the suite XML needs (attributes are not used by TestRail's format).

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use super::read::XmlError;

#[derive(Debug, Default)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) children: Vec<Element>,
    pub(super) text: String,
}

impl Element {
    /// The first child named `name`.
    pub(super) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub(super) fn all<'e>(&'e self, name: &'e str) -> impl Iterator<Item = &'e Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`, if present.
    pub(super) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }
}

/// Parses a document into its root element.
pub(super) fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| XmlError::Syntax(position, e.to_string()))?;
        let top = stack.len() - 1;
        match event {
            Event::Start(start) => stack.push(Element {
                name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                ..Element::default()
            }),
            Event::Empty(empty) => stack[top].children.push(Element {
                name: String::from_utf8_lossy(empty.local_name().as_ref()).into_owned(),
                ..Element::default()
            }),
            Event::End(_) => {
                if let Some(done) = stack.pop().filter(|_| !stack.is_empty()) {
                    let parent = stack.len() - 1;
                    stack[parent].children.push(done);
                }
            }
            Event::Text(text) => {
                let text = text
                    .decode()
                    .map_err(|e| XmlError::Syntax(position, e.to_string()))?;
                stack[top].text.push_str(&text);
            }
            Event::CData(data) => {
                let text = data
                    .decode()
                    .map_err(|e| XmlError::Syntax(position, e.to_string()))?;
                stack[top].text.push_str(&text);
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        resolve_predefined_entity(&name)
                            .ok_or(XmlError::Entity(name.clone()))?
                            .to_string()
                    }
                };
                stack[top].text.push_str(&resolved);
            }
            Event::Eof if stack.len() == 1 => break,
            Event::Eof => {
                let open = stack.last().map(|e| e.name.clone()).unwrap_or_default();
                return Err(XmlError::Syntax(
                    position,
                    format!("<{open}> is never closed"),
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
    let mut document = stack.pop().ok_or(XmlError::Empty)?;
    document.children.pop().ok_or(XmlError::Empty)
}
