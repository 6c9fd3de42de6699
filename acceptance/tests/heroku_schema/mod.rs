//! Reads the TypeScript declarations of Heroku's Platform API shipped by the npm package
//! `@heroku-cli/schema` (`lib/index.d.ts`, generated from Heroku's JSON hyper-schema by
//! json-schema-to-typescript), far enough to know each resource's fields and the JSON types
//! each field allows.
//!
//! Only what that file uses is understood: `export interface Name { field?: type ... }` and
//! `export type Name = type`, with types built from `string`, `number`, `boolean`, `null`,
//! `unknown`, string literals, `{ ... }` object literals, `T[]`, `|`, `&`, parentheses and
//! references to other declarations. Anything else is an error, so a change of the file's
//! format is noticed instead of silently checking less.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

/// A TypeScript type, as far as JSON is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    String,
    Number,
    Boolean,
    Null,
    /// `unknown` / `any`: every JSON value.
    Unknown,
    /// `{ ... }` (fields) or `object`.
    Object(BTreeMap<String, Ty>),
    Array(Box<Ty>),
    /// A reference to another declaration by name.
    Ref(String),
    Union(Vec<Ty>),
    Intersection(Vec<Ty>),
}

/// The JSON types a [`Ty`] allows; `None` means any value.
pub type Allowed = Option<BTreeSet<&'static str>>;

/// Every declaration of a `.d.ts` file.
#[derive(Debug, Default)]
pub struct Declarations {
    /// `export interface Name { ... }`: field name -> type.
    pub interfaces: BTreeMap<String, BTreeMap<String, Ty>>,
    /// `export type Name = ...`.
    pub aliases: BTreeMap<String, Ty>,
}

impl Declarations {
    /// Parses the declarations; every reference must name a declaration of the file.
    pub fn parse(text: &str) -> Result<Declarations, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
        };
        let decls = p.file()?;
        for ty in decls
            .interfaces
            .values()
            .flat_map(|fields| fields.values())
            .chain(decls.aliases.values())
        {
            decls.check_refs(ty)?;
        }
        Ok(decls)
    }

    fn check_refs(&self, ty: &Ty) -> Result<(), String> {
        match ty {
            Ty::Ref(name) => {
                if self.interfaces.contains_key(name) || self.aliases.contains_key(name) {
                    Ok(())
                } else {
                    Err(format!("reference to undeclared type {name}"))
                }
            }
            Ty::Object(fields) => fields.values().try_for_each(|t| self.check_refs(t)),
            Ty::Array(item) => self.check_refs(item),
            Ty::Union(parts) | Ty::Intersection(parts) => {
                parts.iter().try_for_each(|t| self.check_refs(t))
            }
            _ => Ok(()),
        }
    }

    /// The fields of the interface that `index_interface` (`HerokuPlatformAPI`) lists under
    /// `resource`, the hyper-schema's definition name (e.g. `add-on` -> `AddOn`).
    pub fn resource(
        &self,
        index_interface: &str,
        resource: &str,
    ) -> Result<&BTreeMap<String, Ty>, String> {
        let index = self
            .interfaces
            .get(index_interface)
            .ok_or_else(|| format!("no interface {index_interface}"))?;
        match index.get(resource) {
            Some(Ty::Ref(name)) => self
                .interfaces
                .get(name)
                .ok_or_else(|| format!("{index_interface}.{resource} is {name}, not an interface")),
            Some(other) => Err(format!(
                "{index_interface}.{resource} is {other:?}, not an interface name"
            )),
            None => Err(format!("{index_interface} has no resource {resource:?}")),
        }
    }

    /// The JSON types `ty` allows (`None`: any). A number allows integers too.
    pub fn json_types(&self, ty: &Ty) -> Allowed {
        self.allowed(ty, 0)
    }

    fn allowed(&self, ty: &Ty, depth: usize) -> Allowed {
        let one = |t: &'static str| Some(BTreeSet::from([t]));
        match ty {
            Ty::String => one("string"),
            Ty::Number => Some(BTreeSet::from(["number", "integer"])),
            Ty::Boolean => one("boolean"),
            Ty::Null => one("null"),
            Ty::Unknown => None,
            Ty::Object(_) => one("object"),
            Ty::Array(_) => one("array"),
            Ty::Ref(name) => {
                if self.interfaces.contains_key(name) {
                    one("object")
                } else if let (Some(alias), true) = (self.aliases.get(name), depth < 32) {
                    self.allowed(alias, depth + 1)
                } else {
                    None
                }
            }
            Ty::Union(parts) => {
                let mut all = BTreeSet::new();
                for part in parts {
                    all.extend(self.allowed(part, depth + 1)?);
                }
                Some(all)
            }
            Ty::Intersection(parts) => {
                let sets: Vec<BTreeSet<&'static str>> = parts
                    .iter()
                    .filter_map(|part| self.allowed(part, depth + 1))
                    .collect();
                // Only `unknown` parts: any value.
                let (first, rest) = sets.split_first()?;
                let common: BTreeSet<&'static str> = first
                    .iter()
                    .filter(|t| rest.iter().all(|s| s.contains(*t)))
                    .copied()
                    .collect();
                if common.is_empty() {
                    // json-schema-to-typescript writes some arrays of objects as
                    // `{ ... } & { ... }[]`; no value is both, so read it as either.
                    Some(sets.into_iter().flatten().collect())
                } else {
                    Some(common)
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num,
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .ok_or("unterminated /* comment")?;
            i = end + 2;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        s.extend(chars.get(i + 1));
                        i += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            i += 1;
            tokens.push(Token::Str(s));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Num);
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if "{}[]()|&:;,?=-".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead)
    }

    fn next(&mut self) -> Result<Token, String> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of file")?;
        self.pos += 1;
        Ok(token)
    }

    fn at(&self, c: char) -> bool {
        self.peek(0) == Some(&Token::Punct(c))
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.at(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Token::Punct(p) if p == c => Ok(()),
            other => Err(self.error(format!("expected {c:?}, found {other:?}"))),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Ident(name) => Ok(name),
            other => Err(self.error(format!("expected a name, found {other:?}"))),
        }
    }

    fn error(&self, message: String) -> String {
        let context: Vec<String> = self.tokens
            [self.pos.saturating_sub(6)..(self.pos + 3).min(self.tokens.len())]
            .iter()
            .map(|t| match t {
                Token::Ident(s) => s.clone(),
                Token::Str(s) => format!("'{s}'"),
                Token::Num => "<number>".into(),
                Token::Punct(c) => c.to_string(),
            })
            .collect();
        format!("{message} (near `{}`)", context.join(" "))
    }

    fn file(&mut self) -> Result<Declarations, String> {
        let mut decls = Declarations::default();
        while self.peek(0).is_some() {
            if self.ident()? != "export" {
                return Err(self.error("expected `export`".into()));
            }
            match self.ident()?.as_str() {
                "interface" => {
                    let name = self.ident()?;
                    self.expect('{')?;
                    let fields = self.members()?;
                    decls.interfaces.insert(name, fields);
                }
                "type" => {
                    let name = self.ident()?;
                    self.expect('=')?;
                    let ty = self.union()?;
                    self.eat(';');
                    decls.aliases.insert(name, ty);
                }
                other => return Err(self.error(format!("unsupported declaration `{other}`"))),
            }
        }
        Ok(decls)
    }

    /// Members up to and including the closing `}`. Index signatures are skipped.
    fn members(&mut self) -> Result<BTreeMap<String, Ty>, String> {
        let mut fields = BTreeMap::new();
        loop {
            if self.eat('}') {
                return Ok(fields);
            }
            if self.eat('[') {
                self.ident()?;
                self.expect(':')?;
                self.union()?;
                self.expect(']')?;
                self.expect(':')?;
                self.union()?;
            } else {
                let name = match self.next()? {
                    Token::Ident(s) | Token::Str(s) => s,
                    other => return Err(self.error(format!("expected a field, found {other:?}"))),
                };
                self.eat('?');
                self.expect(':')?;
                let ty = self.union()?;
                fields.insert(name, ty);
            }
            if !self.eat(';') {
                self.eat(',');
            }
        }
    }

    fn union(&mut self) -> Result<Ty, String> {
        self.eat('|');
        let mut parts = vec![self.intersection()?];
        while self.eat('|') {
            parts.push(self.intersection()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ty::Union(parts)
        })
    }

    fn intersection(&mut self) -> Result<Ty, String> {
        let mut parts = vec![self.postfix()?];
        while self.eat('&') {
            parts.push(self.postfix()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ty::Intersection(parts)
        })
    }

    fn postfix(&mut self) -> Result<Ty, String> {
        let mut ty = self.primary()?;
        // `[]` only: a `[` followed by a name opens the next member's index signature.
        while self.at('[') && self.peek(1) == Some(&Token::Punct(']')) {
            self.pos += 2;
            ty = Ty::Array(Box::new(ty));
        }
        Ok(ty)
    }

    fn primary(&mut self) -> Result<Ty, String> {
        match self.next()? {
            Token::Punct('(') => {
                let ty = self.union()?;
                self.expect(')')?;
                Ok(ty)
            }
            Token::Punct('{') => Ok(Ty::Object(self.members()?)),
            Token::Punct('-') => match self.next()? {
                Token::Num => Ok(Ty::Number),
                other => Err(self.error(format!("expected a number after `-`, found {other:?}"))),
            },
            Token::Str(_) => Ok(Ty::String),
            Token::Num => Ok(Ty::Number),
            Token::Ident(name) => match name.as_str() {
                "string" => Ok(Ty::String),
                "number" => Ok(Ty::Number),
                "boolean" | "true" | "false" => Ok(Ty::Boolean),
                "null" => Ok(Ty::Null),
                "unknown" | "any" => Ok(Ty::Unknown),
                "object" => Ok(Ty::Object(BTreeMap::new())),
                _ if name.starts_with(|c: char| c.is_ascii_uppercase()) => Ok(Ty::Ref(name)),
                _ => Err(self.error(format!("unsupported type `{name}`"))),
            },
            other => Err(self.error(format!("expected a type, found {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
/* This file was automatically generated by json-schema-to-typescript. */

/**
 * provider actions
 */
export type Actions = {
  [k: string]: unknown
  id?: string
} & {
  [k: string]: unknown
}[]
export type Compliance = ('HIPAA' | 'PCI')[] | null
export interface HerokuPlatformAPI {
  [k: string]: unknown
  'add-on'?: AddOn
  app?: App
}
export interface AddOn {
  actions: Actions
  compliance?: Compliance
  plan:
    | {
        [k: string]: unknown
        id?: string
      }
    | App
  state: 'deprovisioned' | 'provisioned'
  web_url: null | string
}
export interface App {
  [k: string]: unknown
  // a comment
  repo_size?: null | number
  maintenance?: boolean;
  tags?: string[]
  extra?: unknown
}
"#;

    fn types(decls: &Declarations, ty: &Ty) -> Vec<&'static str> {
        decls
            .json_types(ty)
            .map(|s| s.into_iter().collect())
            .unwrap_or_else(|| vec!["any"])
    }

    #[test]
    fn parses_interfaces_aliases_and_the_resource_index() {
        let decls = Declarations::parse(SAMPLE).unwrap();
        let addon = decls.resource("HerokuPlatformAPI", "add-on").unwrap();
        let keys: Vec<&str> = addon.keys().map(String::as_str).collect();
        assert_eq!(keys, ["actions", "compliance", "plan", "state", "web_url"]);
        assert_eq!(types(&decls, &addon["actions"]), ["array", "object"]);
        assert_eq!(types(&decls, &addon["compliance"]), ["array", "null"]);
        assert_eq!(types(&decls, &addon["plan"]), ["object"]);
        assert_eq!(types(&decls, &addon["state"]), ["string"]);
        assert_eq!(types(&decls, &addon["web_url"]), ["null", "string"]);

        let app = decls.resource("HerokuPlatformAPI", "app").unwrap();
        let keys: Vec<&str> = app.keys().map(String::as_str).collect();
        assert_eq!(keys, ["extra", "maintenance", "repo_size", "tags"]);
        assert_eq!(
            types(&decls, &app["repo_size"]),
            ["integer", "null", "number"]
        );
        assert_eq!(types(&decls, &app["maintenance"]), ["boolean"]);
        assert_eq!(types(&decls, &app["tags"]), ["array"]);
        assert_eq!(types(&decls, &app["extra"]), ["any"]);
    }

    #[test]
    fn unknown_syntax_and_dangling_references_are_errors() {
        assert!(Declarations::parse("export interface A { x?: Missing }").is_err());
        assert!(Declarations::parse("export declare const x: string").is_err());
        assert!(Declarations::parse("export interface A { x?: Array<string> }").is_err());
        assert!(Declarations::parse("export interface A { x?: string").is_err());
        assert!(Declarations::default()
            .resource("HerokuPlatformAPI", "app")
            .is_err());
    }
}
