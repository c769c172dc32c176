//! The closed set of diagnostic ids: each with its kebab-case name (what
//! `error[...]` shows and lit tests check) and a doc line. A diagnostic can
//! only be made from one of these; `every_id_has_a_lit_test` fails when an
//! id has no lit test.

macro_rules! catalogue {
    ($($(#[doc = $doc:literal])+ $variant:ident = $name:literal,)*) => {
        /// A diagnostic's id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DiagId {
            $($(#[doc = $doc])+ $variant,)*
        }

        impl DiagId {
            /// Every id, in catalogue order.
            #[cfg(test)]
            pub const ALL: &'static [DiagId] = &[$(DiagId::$variant,)*];

            /// The kebab-case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(DiagId::$variant => $name,)*
                }
            }

            /// What the diagnostic is about, in one line.
            #[cfg(test)]
            pub fn doc(self) -> &'static str {
                match self {
                    $(DiagId::$variant => concat!($($doc),+),)*
                }
            }
        }
    };
}

catalogue! {
    // ----- reading and lexing
    /// The source file is not UTF-8.
    InvalidUtf8 = "invalid-utf8",
    /// A character that starts no token.
    UnexpectedCharacter = "unexpected-character",
    /// A string literal without its closing quote.
    UnterminatedString = "unterminated-string",
    /// A `/*` comment without its `*/`.
    UnterminatedComment = "unterminated-comment",
    /// A bad `\` escape in a string literal.
    InvalidEscape = "invalid-escape",
    /// A malformed number literal.
    InvalidNumber = "invalid-number",
    /// An integer literal beyond `int`'s range (2^63 only after `-`).
    IntegerTooLarge = "integer-too-large",
    /// `{}` with nothing inside a string literal.
    EmptyInterpolation = "empty-interpolation",
    /// Nesting (blocks, expressions, interpolations) beyond the compiler's limits.
    NestingTooDeep = "nesting-too-deep",
    // ----- parsing
    /// A specific token was expected.
    ExpectedToken = "expected-token",
    /// Something other than an item at the top level.
    ExpectedItem = "expected-item",
    /// Something other than an expression where one must be.
    ExpectedExpression = "expected-expression",
    /// Something other than a type where one must be.
    ExpectedType = "expected-type",
    /// Something other than a pattern where one must be.
    ExpectedPattern = "expected-pattern",
    /// Two statements on one line without `;`.
    ExpectedNewline = "expected-newline",
    /// An interpolation `{...}` that is not one expression.
    InvalidInterpolation = "invalid-interpolation",
    /// A typeless `self` anywhere but a method's first parameter.
    MisplacedSelf = "misplaced-self",
    // ----- modules and declarations
    /// `import` of a module that is neither standard nor beside the file.
    UnknownModule = "unknown-module",
    /// The same module imported twice.
    DuplicateImport = "duplicate-import",
    /// Two items (or an item and a module) with one name.
    DuplicateDefinition = "duplicate-definition",
    /// A struct declaring a field twice, or a literal giving one twice.
    DuplicateField = "duplicate-field",
    /// An enum declaring a variant twice.
    DuplicateVariant = "duplicate-variant",
    /// A function with two parameters of one name.
    DuplicateParameter = "duplicate-parameter",
    /// A generic function with two type parameters of one name.
    DuplicateTypeParameter = "duplicate-type-parameter",
    /// A struct or enum named like a built-in type.
    BuiltinTypeName = "builtin-type-name",
    /// An enum without variants.
    EmptyEnum = "empty-enum",
    /// No `fn main()` in the program's file.
    MissingMain = "missing-main",
    /// `main` with parameters or a result.
    InvalidMain = "invalid-main",
    /// A `gen fn` that does not say what it yields.
    GenWithoutType = "gen-without-type",
    /// A type name that names no type.
    UnknownType = "unknown-type",
    /// A type given the wrong number of type arguments.
    WrongTypeArguments = "wrong-type-arguments",
    /// A map key type other than `int` or `string`.
    InvalidMapKey = "invalid-map-key",
    /// A part of the language parsed but not built yet.
    Unsupported = "unsupported",
    /// `extern fn` in a program (only the standard library declares runtime functions).
    ExternOutsideStdlib = "extern-outside-stdlib",
    /// `extern fn` naming no function of the runtime's table.
    UnknownRuntimeFunction = "unknown-runtime-function",
    /// `extern fn` whose Weft types do not pass the table's ABI kinds.
    ExternSignatureMismatch = "extern-signature-mismatch",
    // ----- names and values
    /// A name that is not declared.
    UnknownName = "unknown-name",
    /// A field that the struct does not have.
    UnknownField = "unknown-field",
    /// A method that the type does not have.
    UnknownMethod = "unknown-method",
    /// A variant that the enum does not have.
    UnknownVariant = "unknown-variant",
    /// A struct literal leaving fields out.
    MissingField = "missing-field",
    /// A struct or enum used where a value is wanted.
    TypeAsValue = "type-as-value",
    /// A module used where a value is wanted.
    ModuleAsValue = "module-as-value",
    /// A method taken as a value instead of called.
    MethodAsValue = "method-as-value",
    /// A generic function taken as a value.
    GenericAsValue = "generic-as-value",
    /// A static method called on a value.
    StaticMethodOnValue = "static-method-on-value",
    /// An expression without a value used as one.
    NoValue = "no-value",
    /// Assignment to a `let`, a parameter or another immutable binding.
    AssignToImmutable = "assign-to-immutable",
    /// Assignment to something that is not a variable, element or field.
    InvalidAssignmentTarget = "invalid-assignment-target",
    // ----- types
    /// A value of one type where another is wanted.
    TypeMismatch = "type-mismatch",
    /// `if`/`else` or `match` arms of different types.
    BranchTypeMismatch = "branch-type-mismatch",
    /// A pattern that cannot match the scrutinee's type.
    PatternTypeMismatch = "pattern-type-mismatch",
    /// An operator applied to operands it does not take.
    InvalidOperand = "invalid-operand",
    /// `int(...)`, `float(...)` of a type they do not convert.
    InvalidConversion = "invalid-conversion",
    /// `T[...](...)` for a type that does not construct that way.
    InvalidConstructor = "invalid-constructor",
    /// An empty array or `nil` whose type nothing fixes.
    CannotInfer = "cannot-infer",
    /// A generic call whose type arguments the arguments do not fix.
    CannotInferType = "cannot-infer-type",
    /// Generic instantiation past the depth limit.
    InstantiationTooDeep = "instantiation-too-deep",
    /// `!`, `?` or `if let` on a value that is not optional.
    NotOptional = "not-optional",
    /// `?` where the function does not return what it would return early
    /// (a `Result` with the same error type, or an optional).
    InvalidTry = "invalid-try",
    /// Indexing a value that cannot be indexed.
    NotIndexable = "not-indexable",
    /// A name used as an interface that is not one.
    UnknownInterface = "unknown-interface",
    /// `impl I for S` without one of `I`'s methods.
    MissingInterfaceMethod = "missing-interface-method",
    /// `impl I for S` with a method whose signature differs from `I`'s.
    InterfaceSignatureMismatch = "interface-signature-mismatch",
    /// `impl I for S` with a method `I` does not declare.
    MethodNotInInterface = "method-not-in-interface",
    /// A generic function's type argument that lacks an interface its bound asks for.
    UnsatisfiedBound = "unsatisfied-bound",
    /// A constant outside 0..255 stored into or pushed onto a `Bytes`.
    ByteOutOfRange = "byte-out-of-range",
    /// `for` over a value that is neither a range nor an array.
    NotIterable = "not-iterable",
    /// Calling a value that is not a function.
    NotCallable = "not-callable",
    /// A call with the wrong number of arguments.
    WrongArgumentCount = "wrong-argument-count",
    // ----- statements and control flow
    /// A range anywhere but a `for` loop.
    RangeOutsideFor = "range-outside-for",
    /// `name:` before something that is not a loop.
    LabelWithoutLoop = "label-without-loop",
    /// `break label` or `continue label` naming no enclosing loop.
    UnknownLabel = "unknown-label",
    /// A `const` whose value is not known at compile time.
    ConstNotConstant = "const-not-constant",
    /// A module variable read before its initialiser gave it its type.
    GlobalBeforeInit = "global-before-init",
    /// `{x:spec}` with a spec that does not parse, or does not suit the value.
    InvalidFormatSpec = "invalid-format-spec",
    /// A `select`'s `default` arm that is not its last.
    DefaultNotLast = "default-not-last",
    /// `if` used as a value without `else`.
    IfWithoutElse = "if-without-else",
    /// `break` or `continue` outside a loop.
    BreakOutsideLoop = "break-outside-loop",
    /// A function with a result that may end without returning one.
    MissingReturn = "missing-return",
    /// `return` without a value in a function with a result.
    MissingReturnValue = "missing-return-value",
    /// `return value` in a function without a result.
    ReturnValueInUnitFn = "return-value-in-unit-fn",
    /// `return value` in a generator.
    ReturnValueInGen = "return-value-in-gen",
    /// `yield` outside a `gen fn`.
    YieldOutsideGen = "yield-outside-gen",
    /// A `match` that leaves values uncovered.
    NonExhaustiveMatch = "non-exhaustive-match",
    /// A pattern binding one name twice.
    DuplicateBinding = "duplicate-binding",
    /// A variant pattern with the wrong number of values.
    WrongPatternArity = "wrong-pattern-arity",
    // ----- async, tasks, channels, select, defer
    /// `await` (or a suspend) outside an `async fn`.
    AwaitOutsideAsync = "await-outside-async",
    /// `await` of something that is not an async call, a task or a channel operation.
    AwaitNonAsync = "await-non-async",
    /// An `async fn` called without `await` or `spawn`.
    AsyncCallWithoutAwait = "async-call-without-await",
    /// `spawn` outside an `async fn`.
    SpawnOutsideAsync = "spawn-outside-async",
    /// `spawn` of something that is not an async call.
    SpawnNonAsync = "spawn-non-async",
    /// A channel operation that waits, called without `await`.
    ChanOpWithoutAwait = "chan-op-without-await",
    /// `select` outside an `async fn`.
    SelectOutsideAsync = "select-outside-async",
    /// A `select` without arms.
    EmptySelect = "empty-select",
    /// A `select` arm that is not `recv`, `send` or `time.after`.
    InvalidSelectArm = "invalid-select-arm",
    /// A binding on a `select` arm that gives no value.
    SelectBinding = "select-binding",
    /// `time.after` anywhere but a `select` arm.
    AfterOutsideSelect = "after-outside-select",
    /// `return`, `break`, `await`... inside a `defer`.
    ControlFlowInDefer = "control-flow-in-defer",
}

#[cfg(test)]
mod tests {
    use super::DiagId;

    /// Ids a program cannot produce: only the standard library declares
    /// `extern fn` (`check/tests.rs` covers these two).
    const NOT_FROM_PROGRAMS: [DiagId; 2] = [
        DiagId::UnknownRuntimeFunction,
        DiagId::ExternSignatureMismatch,
    ];

    fn lit_texts(dir: &std::path::Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).expect("lit/ is readable") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "Output" {
                    lit_texts(&path, out);
                }
            } else if name.ends_with(".weft") || name.ends_with(".ll") {
                out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }

    #[test]
    fn every_id_has_a_lit_test() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lit");
        let mut text = String::new();
        lit_texts(&root, &mut text);
        let missing: Vec<&str> = DiagId::ALL
            .iter()
            .filter(|id| !NOT_FROM_PROGRAMS.contains(id))
            .map(|id| id.name())
            .filter(|name| !text.contains(&format!("[{name}]")))
            .collect();
        assert!(missing.is_empty(), "ids without a lit test: {missing:?}");
    }

    #[test]
    fn names_are_kebab_case_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for id in DiagId::ALL {
            let name = id.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.split('-').all(|w| !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "{name}"
            );
            assert!(!id.doc().trim().is_empty(), "{name}");
        }
    }
}
