//! Shapes: the static description of a type that the runtime's formatter
//! (`runtime/src/format.rs`) walks to print a value of it — `str(v)` and
//! `println(v)` of structs, enums, arrays, maps and optionals. One constant
//! global per type, shared by every `str` of it; recursive types refer to
//! their own shape. Printing is then the runtime's iterative walk (any
//! depth, linear time, `<cycle>` for a value that contains itself) instead
//! of a generated recursive function per type.
//!
//! A struct or enum that implements `Display` has a DISPLAY shape whose one
//! item is its `to_string`; an interface value's shape says only that: the
//! value's own shape is the first entry of its method table.
//!
//! Layout, as `format::Shape` and `format::Label` (`#[repr(C)]`):
//! `{ i32 kind, i32 count, ptr name, i64 name_len, ptr items, ptr labels }`
//! and `{ ptr, i64 }`; the kinds are `format`'s constants.

use super::{Codegen, Result};
use crate::check::Type;
use inkwell::module::Linkage;
use inkwell::types::StructType;
use inkwell::values::{BasicValueEnum, GlobalValue, PointerValue};

// The shape kinds (`weft_abi::shape`), as the u64 fields codegen emits.
const INT: u64 = shape::INT as u64;
const FLOAT: u64 = shape::FLOAT as u64;
const BOOL: u64 = shape::BOOL as u64;
const STRING: u64 = shape::STRING as u64;
const STRUCT: u64 = shape::STRUCT as u64;
const ENUM: u64 = shape::ENUM as u64;
const ARRAY: u64 = shape::ARRAY as u64;
const MAP: u64 = shape::MAP as u64;
const OPTIONAL: u64 = shape::OPTIONAL as u64;
const OPAQUE: u64 = shape::OPAQUE as u64;
const BYTES: u64 = shape::BYTES as u64;
const INTERFACE: u64 = shape::INTERFACE as u64;
const DISPLAY: u64 = shape::DISPLAY as u64;
const VARIANT: u64 = shape::VARIANT as u64;
use weft_abi::shape;

/// What one shape says, before it becomes constant data.
struct Parts<'ctx> {
    kind: u64,
    count: u64,
    name: String,
    items: Vec<PointerValue<'ctx>>,
    labels: Vec<String>,
}

impl<'ctx> Codegen<'ctx, '_> {
    fn shape_type(&self) -> StructType<'ctx> {
        let (i32t, i64t) = (self.cx.i32_type(), self.cx.i64_type());
        self.cx.struct_type(
            &[
                i32t.into(),
                i32t.into(),
                self.raw.into(),
                i64t.into(),
                self.raw.into(),
                self.raw.into(),
            ],
            false,
        )
    }

    /// The shape of `ty`, made on first use.
    pub(super) fn shape(&mut self, ty: &Type) -> Result<PointerValue<'ctx>> {
        let key = ty.to_string();
        if let Some(g) = self.m.shapes.get(&key) {
            return Ok(g.as_pointer_value());
        }
        // Declared before its parts, which may refer back to it.
        let g = self.shape_global(&format!("shape.{key}"));
        self.m.shapes.insert(key, g);
        let parts = match ty {
            Type::Int => self.leaf(INT, ""),
            Type::Float => self.leaf(FLOAT, ""),
            Type::Bool => self.leaf(BOOL, ""),
            Type::Str => self.leaf(STRING, ""),
            Type::Bytes => self.leaf(BYTES, ""),
            Type::Interface(k) => Parts {
                kind: INTERFACE,
                count: *k as u64,
                name: String::new(),
                items: Vec::new(),
                labels: Vec::new(),
            },
            // Printed by its own `to_string`.
            Type::Struct(_) | Type::Enum(_) if self.typed.display_of(ty).is_some() => {
                let f = self.typed.display_of(ty).expect("checked");
                let code = self.m.fns[f as usize].as_global_value().as_pointer_value();
                Parts {
                    kind: DISPLAY,
                    count: 1,
                    name: String::new(),
                    items: vec![code],
                    labels: Vec::new(),
                }
            }
            Type::Func(..) | Type::AsyncFn(..) => self.leaf(OPAQUE, "<fn>"),
            Type::Nil | Type::Unit | Type::Never | Type::Error => self.leaf(OPAQUE, "nil"),
            Type::Gen(_) | Type::Task(_) | Type::Chan(_) => self.leaf(OPAQUE, "?"),
            Type::Optional(inner) => Parts {
                kind: OPTIONAL,
                count: Type::optional_is_boxed(inner) as u64,
                name: String::new(),
                items: vec![self.shape(inner)?],
                labels: Vec::new(),
            },
            Type::Array(elem) => Parts {
                kind: ARRAY,
                count: 1,
                name: String::new(),
                items: vec![self.shape(elem)?],
                labels: Vec::new(),
            },
            Type::Map(k, v) => Parts {
                kind: MAP,
                count: 2,
                name: String::new(),
                items: vec![self.shape(k)?, self.shape(v)?],
                labels: Vec::new(),
            },
            Type::Struct(id) => {
                let info = &self.typed.structs[*id as usize];
                let (name, fields) = (info.base_name.clone(), info.fields.clone());
                let mut items = Vec::new();
                for (_, t) in &fields {
                    items.push(self.shape(t)?);
                }
                Parts {
                    kind: STRUCT,
                    count: fields.len() as u64,
                    name,
                    items,
                    labels: fields.into_iter().map(|(n, _)| n).collect(),
                }
            }
            Type::Enum(id) => {
                let variants = self.typed.structs[*id as usize].variants.clone();
                let mut items = Vec::new();
                for (i, (vname, payload)) in variants.iter().enumerate() {
                    let mut inner = Vec::new();
                    for t in payload {
                        inner.push(self.shape(t)?);
                    }
                    let vg = self.shape_global(&format!("shape.{}.{i}", ty));
                    let parts = Parts {
                        kind: VARIANT,
                        count: payload.len() as u64,
                        name: vname.clone(),
                        items: inner,
                        labels: Vec::new(),
                    };
                    self.fill_shape(vg, parts)?;
                    items.push(vg.as_pointer_value());
                }
                Parts {
                    kind: ENUM,
                    count: variants.len() as u64,
                    name: String::new(),
                    items,
                    labels: Vec::new(),
                }
            }
        };
        self.fill_shape(g, parts)?;
        Ok(g.as_pointer_value())
    }

    fn leaf(&self, kind: u64, name: &str) -> Parts<'ctx> {
        Parts {
            kind,
            count: 0,
            name: name.to_string(),
            items: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn shape_global(&mut self, name: &str) -> GlobalValue<'ctx> {
        let g = self.module.add_global(self.shape_type(), None, name);
        g.set_constant(true);
        g.set_linkage(Linkage::Private);
        g.set_alignment(8);
        g
    }

    fn fill_shape(&mut self, g: GlobalValue<'ctx>, parts: Parts<'ctx>) -> Result<()> {
        let (i32t, i64t) = (self.cx.i32_type(), self.cx.i64_type());
        let null = self.raw.const_null();
        let name = if parts.name.is_empty() {
            null
        } else {
            self.bytes_ptr(parts.name.as_bytes())?
        };
        let items = if parts.items.is_empty() {
            null
        } else {
            let arr = self.raw.const_array(&parts.items);
            self.const_global(arr.into(), "shape.items")
        };
        let labels = if parts.labels.is_empty() {
            null
        } else {
            let label_ty = self.cx.struct_type(&[self.raw.into(), i64t.into()], false);
            let mut values = Vec::new();
            for l in &parts.labels {
                let p = self.bytes_ptr(l.as_bytes())?;
                let n = i64t.const_int(l.len() as u64, false);
                values.push(label_ty.const_named_struct(&[p.into(), n.into()]));
            }
            let arr = label_ty.const_array(&values);
            self.const_global(arr.into(), "shape.labels")
        };
        let init = self.shape_type().const_named_struct(&[
            i32t.const_int(parts.kind, false).into(),
            i32t.const_int(parts.count, false).into(),
            name.into(),
            i64t.const_int(parts.name.len() as u64, false).into(),
            items.into(),
            labels.into(),
        ]);
        g.set_initializer(&init);
        Ok(())
    }

    fn const_global(&mut self, value: BasicValueEnum<'ctx>, name: &str) -> PointerValue<'ctx> {
        self.private_constant(value, name).as_pointer_value()
    }
}
