//! [`Tree`]: a model's serde form between a cty value and the typed model, with unknowns
//! carried out of band.
//!
//! A wholly known part is plain JSON (what `json::to_serde` gives and `json::from_serde`
//! takes); an unknown is its own variant, never JSON, so no value a user writes (a map key,
//! a string) can be taken for one. [`Field`](super::Field) asks for the unknown through a
//! private newtype-struct token, as serde_json's `RawValue` does: this module's deserializer
//! answers it, every other format sees a plain optional value.

use std::collections::BTreeMap;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize};
use serde_json::{Error, Map as JsonMap, Number, Value as Json};

/// The newtype-struct name through which `Field` and the tree exchange an unknown.
pub(crate) const UNKNOWN_TOKEN: &str = "$tfplugin::private::Unknown";

/// serde_json's private name for a full-precision number (`arbitrary_precision` is on):
/// its `Number` serializes as a one-field struct of this name holding the digits.
const JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A model's serde form: see the [module documentation](self).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree {
    /// Not known until apply.
    Unknown,
    /// A wholly known value (null included).
    Known(Json),
    /// A sequence built piecewise (it holds an unknown, or the view built it).
    Seq(Vec<Tree>),
    /// A map or object built piecewise.
    Map(BTreeMap<String, Tree>),
}

/// The JSON null, for absent entries.
static NULL: Json = Json::Null;

/// A borrowed look at a tree or at JSON inside one, so callers need not care which of the
/// two forms a wholly known part has.
#[derive(Clone, Copy)]
pub(crate) enum Node<'a> {
    Unknown,
    Json(&'a Json),
    Seq(&'a [Tree]),
    Map(&'a BTreeMap<String, Tree>),
}

impl Tree {
    /// A borrowed look at the tree.
    pub(crate) fn node(&self) -> Node<'_> {
        match self {
            Tree::Unknown => Node::Unknown,
            Tree::Known(json) => Node::Json(json),
            Tree::Seq(items) => Node::Seq(items),
            Tree::Map(entries) => Node::Map(entries),
        }
    }

    /// True when unknown or null: what a plain (not `Field`) model type leaves out.
    pub(crate) fn is_null_or_unknown(&self) -> bool {
        matches!(self, Tree::Unknown | Tree::Known(Json::Null))
    }

    /// The JSON array or object at the top split into its parts, so one of them can change.
    fn expand(&mut self) {
        match self {
            Tree::Known(Json::Array(items)) => {
                *self = Tree::Seq(std::mem::take(items).into_iter().map(Tree::Known).collect())
            }
            Tree::Known(Json::Object(entries)) => {
                *self = Tree::Map(
                    std::mem::take(entries)
                        .into_iter()
                        .map(|(k, v)| (k, Tree::Known(v)))
                        .collect(),
                )
            }
            _ => {}
        }
    }

    /// The part at `path` (map keys and sequence indexes), splitting known JSON on the way.
    pub(crate) fn part_mut(&mut self, path: &[PathStep]) -> Option<&mut Tree> {
        let mut node = self;
        for step in path {
            node.expand();
            node = match (node, step) {
                (Tree::Map(entries), PathStep::Key(key)) => entries.get_mut(key)?,
                (Tree::Seq(items), PathStep::Index(index)) => items.get_mut(*index)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// One step of a path into a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Key(String),
    Index(usize),
}

impl<'a> Node<'a> {
    /// The entry `key` of a map or object; `None` when absent or not a map.
    pub(crate) fn get(self, key: &str) -> Option<Node<'a>> {
        match self {
            Node::Json(Json::Object(entries)) => entries.get(key).map(Node::Json),
            Node::Map(entries) => entries.get(key).map(Tree::node),
            _ => None,
        }
    }

    /// The entry `key`, null when absent.
    pub(crate) fn entry(self, key: &str) -> Node<'a> {
        self.get(key).unwrap_or(Node::Json(&NULL))
    }

    /// The elements of a sequence.
    pub(crate) fn items(self) -> Option<Vec<Node<'a>>> {
        match self {
            Node::Json(Json::Array(items)) => Some(items.iter().map(Node::Json).collect()),
            Node::Seq(items) => Some(items.iter().map(Tree::node).collect()),
            _ => None,
        }
    }

    /// The entries of a map or object.
    pub(crate) fn entries(self) -> Option<Vec<(&'a str, Node<'a>)>> {
        match self {
            Node::Json(Json::Object(entries)) => Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), Node::Json(v)))
                    .collect(),
            ),
            Node::Map(entries) => Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.node()))
                    .collect(),
            ),
            _ => None,
        }
    }

    pub(crate) fn is_null(self) -> bool {
        matches!(self, Node::Json(Json::Null))
    }

    /// An owned copy.
    pub(crate) fn to_tree(self) -> Tree {
        match self {
            Node::Unknown => Tree::Unknown,
            Node::Json(json) => Tree::Known(json.clone()),
            Node::Seq(items) => Tree::Seq(items.to_vec()),
            Node::Map(entries) => Tree::Map(entries.clone()),
        }
    }
}

/// The tree of a serializable value (a model).
pub(crate) fn to_tree<T: Serialize + ?Sized>(value: &T) -> Result<Tree, Error> {
    value.serialize(TreeSerializer)
}

/// Known JSON answers each type hint as serde_json does; the rest reads by its shape.
macro_rules! forward_known {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Tree::Known(json) => json.$method(visitor),
                _ => self.deserialize_any(visitor),
            }
        }
    )*};
}

fn custom(message: impl std::fmt::Display) -> Error {
    <Error as de::Error>::custom(message)
}

fn unknown_here() -> Error {
    custom("the value is unknown here")
}

impl<'de> de::Deserializer<'de> for &'de Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Unknown => Err(unknown_here()),
            Tree::Known(json) => json.deserialize_any(visitor),
            Tree::Seq(items) => {
                let mut seq = Seq(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(items.len(), &"fewer elements")),
                }
            }
            Tree::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Unknown => Err(unknown_here()),
            Tree::Known(json) => json.deserialize_option(visitor),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            // Only `Field` asks with the token; it alone can hold an unknown.
            Tree::Unknown if name == UNKNOWN_TOKEN => visitor.visit_borrowed_str(UNKNOWN_TOKEN),
            Tree::Unknown => Err(unknown_here()),
            Tree::Known(json) => json.deserialize_newtype_struct(name, visitor),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Known(json) => json.deserialize_enum(name, variants, visitor),
            Tree::Unknown => Err(unknown_here()),
            // Enums carrying data hold no `Field`s in models: they are known JSON.
            _ => Err(custom("expected an enum value")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Known(json) => json.deserialize_unit_struct(name, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Known(json) => json.deserialize_tuple(len, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Known(json) => json.deserialize_tuple_struct(name, len, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Tree::Known(json) => json.deserialize_struct(name, fields, visitor),
            _ => self.deserialize_any(visitor),
        }
    }

    forward_known! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier
    }
}

struct Seq<'de>(std::slice::Iter<'de, Tree>);

impl<'de> SeqAccess<'de> for &mut Seq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    iter: std::collections::btree_map::Iter<'de, String, Tree>,
    value: Option<&'de Tree>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(custom("a map value was asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Serializes into a [`Tree`]: known parts as serde_json would, `Field`'s unknown as
/// [`Tree::Unknown`]. A sequence or map wholly known collapses into JSON.
struct TreeSerializer;

macro_rules! serialize_as_json {
    ($($method:ident($ty:ty))*) => {$(
        fn $method(self, v: $ty) -> Result<Tree, Error> {
            serde_json::value::Serializer.$method(v).map(Tree::Known)
        }
    )*};
}

impl ser::Serializer for TreeSerializer {
    type Ok = Tree;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Variant<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = Variant<MapBuilder>;

    serialize_as_json! {
        serialize_bool(bool) serialize_i8(i8) serialize_i16(i16) serialize_i32(i32)
        serialize_i64(i64) serialize_i128(i128) serialize_u8(u8) serialize_u16(u16)
        serialize_u32(u32) serialize_u64(u64) serialize_u128(u128) serialize_f32(f32)
        serialize_f64(f64) serialize_char(char) serialize_str(&str) serialize_bytes(&[u8])
    }

    fn serialize_none(self) -> Result<Tree, Error> {
        Ok(Tree::Known(Json::Null))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Tree, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Tree, Error> {
        Ok(Tree::Known(Json::Null))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Tree, Error> {
        Ok(Tree::Known(Json::Null))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Tree, Error> {
        Ok(Tree::Known(Json::String(variant.to_string())))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Tree, Error> {
        if name == UNKNOWN_TOKEN {
            return Ok(Tree::Unknown);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Tree, Error> {
        Ok(Variant::wrap(variant, value.serialize(self)?))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<SeqBuilder>, Error> {
        Ok(Variant(variant, self.serialize_seq(Some(len))?))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder, Error> {
        Ok(MapBuilder::default())
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<MapBuilder, Error> {
        Ok(MapBuilder {
            number: name == JSON_NUMBER_TOKEN,
            ..MapBuilder::default()
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Variant<MapBuilder>, Error> {
        Ok(Variant(variant, MapBuilder::default()))
    }
}

fn collapse_seq(items: Vec<Tree>) -> Tree {
    if items.iter().all(|i| matches!(i, Tree::Known(_))) {
        Tree::Known(Json::Array(
            items
                .into_iter()
                .map(|i| match i {
                    Tree::Known(json) => json,
                    _ => Json::Null,
                })
                .collect(),
        ))
    } else {
        Tree::Seq(items)
    }
}

fn collapse_map(entries: BTreeMap<String, Tree>) -> Tree {
    if entries.values().all(|v| matches!(v, Tree::Known(_))) {
        Tree::Known(Json::Object(
            entries
                .into_iter()
                .map(|(k, v)| match v {
                    Tree::Known(json) => (k, json),
                    _ => (k, Json::Null),
                })
                .collect::<JsonMap<_, _>>(),
        ))
    } else {
        Tree::Map(entries)
    }
}

struct SeqBuilder(Vec<Tree>);

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(value.serialize(TreeSerializer)?);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Tree;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(collapse_seq(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Tree;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(collapse_seq(self.0))
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Tree;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push(value)
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(collapse_seq(self.0))
    }
}

#[derive(Default)]
struct MapBuilder {
    entries: BTreeMap<String, Tree>,
    key: Option<String>,
    /// serde_json's full-precision number in its struct disguise.
    number: bool,
}

impl MapBuilder {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        self.entries.insert(key, value.serialize(TreeSerializer)?);
        Ok(())
    }

    fn finish(mut self) -> Result<Tree, Error> {
        if self.number {
            return match self.entries.remove(JSON_NUMBER_TOKEN) {
                Some(Tree::Known(Json::String(digits))) => digits
                    .parse::<Number>()
                    .map(|n| Tree::Known(Json::Number(n))),
                _ => Err(custom("a malformed number")),
            };
        }
        Ok(collapse_map(self.entries))
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Tree;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // Keys as serde_json writes them: strings, and numbers or bools as their text.
        self.key = Some(match key.serialize(TreeSerializer)? {
            Tree::Known(Json::String(s)) => s,
            Tree::Known(json @ (Json::Number(_) | Json::Bool(_))) => json.to_string(),
            _ => return Err(custom("a map key must be a string")),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        match self.key.take() {
            Some(key) => self.insert(key, value),
            None => Err(custom("a map value came before its key")),
        }
    }
    fn end(self) -> Result<Tree, Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Tree;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.insert(key.to_string(), value)
    }
    fn end(self) -> Result<Tree, Error> {
        self.finish()
    }
}

/// An enum variant with data: `{"variant": data}`, as serde_json writes it.
struct Variant<B>(&'static str, B);

impl Variant<Tree> {
    fn wrap(variant: &'static str, inner: Tree) -> Tree {
        collapse_map(BTreeMap::from([(variant.to_string(), inner)]))
    }
}

impl ser::SerializeTupleVariant for Variant<SeqBuilder> {
    type Ok = Tree;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.1.push(value)
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(Variant::wrap(self.0, collapse_seq(self.1 .0)))
    }
}

impl ser::SerializeStructVariant for Variant<MapBuilder> {
    type Ok = Tree;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.1.insert(key.to_string(), value)
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(Variant::wrap(self.0, self.1.finish()?))
    }
}

#[cfg(test)]
mod tests;
