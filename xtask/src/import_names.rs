//! Short names for the main module's imports from its wasm-bindgen glue.
//!
//! wasm-bindgen names each import `__wbg_{name}_{16 hex digits}` (the digits keep the imports
//! of different crates apart). Each name is written twice, in the wasm's import section and as
//! a key of the glue's import object, and in two files that are compressed apart. The digits
//! don't compress: in the client's glue alone they were 2.1 KB of its 6.9 KB brotli
//! (BENCHMARKS.md, issue 14, "Short import names"). This gives the imports of the glue's own
//! module short names, in both files, the way a minifier renames what only it can see.
//! Imports from other modules (the split loader's `__wasm_split_load_*`) keep their names.
use std::{fs, path::Path};

use anyhow::{bail, Context, Result};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};

/// Renames the imports of `wasm` that come from `module` (the glue, `./{package}_bg.js`) and
/// the matching keys of the glue's import object in `glue`. Returns how many were renamed.
pub fn shorten(wasm: &Path, glue: &Path, module: &str) -> Result<usize> {
    let bytes = fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let js = fs::read_to_string(glue).with_context(|| format!("reading {}", glue.display()))?;
    let (bytes, js, renamed) = rename(&bytes, &js, module)?;
    fs::write(wasm, bytes)?;
    fs::write(glue, js)?;
    Ok(renamed)
}

/// [`shorten`] on the bytes and the text.
fn rename(bytes: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String, usize)> {
    let mut out = wasm_encoder::Module::new();
    let mut js = js.to_string();
    let mut renamed = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let wasmparser::Payload::ImportSection(reader) = &payload {
            let mut section = wasm_encoder::ImportSection::new();
            for import in reader.clone().into_imports() {
                let import = import?;
                let ty = RoundtripReencoder
                    .entity_type(import.ty)
                    .map_err(|e| anyhow::anyhow!("import {}: {e:?}", import.name))?;
                if import.module != module {
                    section.import(import.module, import.name, ty);
                    continue;
                }
                let short = short_name(renamed);
                rename_key(&mut js, import.name, &short)?;
                section.import(import.module, &short, ty);
                renamed += 1;
            }
            out.section(&section);
        } else if let Some((id, range)) = payload.as_section() {
            let data = bytes
                .get(range.start as usize..range.end as usize)
                .context("a section past the end of the module")?;
            out.section(&wasm_encoder::RawSection { id, data });
        }
    }
    Ok((out.finish(), js, renamed))
}

/// `a` … `z`, `A` … `Z`, then `aa`, `ab`, …: valid JavaScript keys, none a keyword.
fn short_name(mut i: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(LETTERS[i % LETTERS.len()]);
        i /= LETTERS.len();
        if i == 0 {
            break;
        }
        i -= 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// Renames the one key `name:` in the glue. The names are long and unique, so anything but
/// exactly one occurrence, as a key, means the glue is not what this was written for.
fn rename_key(js: &mut String, name: &str, short: &str) -> Result<()> {
    let key = format!("{name}:");
    let (count, at) = (js.matches(name).count(), js.find(&key));
    match (count, at) {
        (1, Some(at)) => {
            js.replace_range(at..at + name.len(), short);
            Ok(())
        }
        _ => bail!(
            "the glue has {count} occurrence(s) of the import {name}, not one key `{name}:`: \
             wasm-bindgen's output changed, so xtask/src/import_names.rs can't rename it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{rename, short_name};
    use wasm_encoder::{
        CodeSection, EntityType, Function, FunctionSection, ImportSection, Instruction, Module,
        TypeSection,
    };

    fn module() -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "./app_bg.js",
            "__wbg_remove_8228e91d7ddbc755",
            EntityType::Function(0),
        );
        imports.import(
            "./__wasm_split.js",
            "__wasm_split_load_x_1",
            EntityType::Function(0),
        );
        imports.import(
            "./app_bg.js",
            "__wbindgen_cast_0000000000000001",
            EntityType::Function(0),
        );
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instruction(&Instruction::Call(0));
        f.instruction(&Instruction::End);
        code.function(&f);
        m.section(&code);
        m.finish()
    }

    fn imports(bytes: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in wasmparser::Parser::new(0).parse_all(bytes) {
            if let wasmparser::Payload::ImportSection(r) = p.unwrap() {
                for i in r.into_imports() {
                    let i = i.unwrap();
                    out.push((i.module.to_string(), i.name.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn the_glues_imports_get_short_names_in_both_files() {
        let js =
            "const import0 = {\n __wbg_remove_8228e91d7ddbc755: function(a) { a.remove(); },\n \
                  __wbindgen_cast_0000000000000001: function(a) { return a; },\n};";
        let (bytes, js, n) = rename(&module(), js, "./app_bg.js").unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            imports(&bytes),
            [
                ("./app_bg.js".to_string(), "a".to_string()),
                (
                    "./__wasm_split.js".to_string(),
                    "__wasm_split_load_x_1".to_string()
                ),
                ("./app_bg.js".to_string(), "b".to_string()),
            ]
        );
        assert_eq!(
            js,
            "const import0 = {\n a: function(a) { a.remove(); },\n b: function(a) { return a; },\n};"
        );
        wasmparser::validate(&bytes).unwrap();
    }

    #[test]
    fn a_glue_that_does_not_match_is_refused() {
        let twice = "const import0 = { __wbg_remove_8228e91d7ddbc755: f, __wbindgen_cast_0000000000000001: g };\n\
                     wasm.__wbg_remove_8228e91d7ddbc755;";
        assert!(rename(&module(), twice, "./app_bg.js").is_err());
        assert!(rename(&module(), "const import0 = {};", "./app_bg.js").is_err());
    }

    #[test]
    fn short_names_run_through_the_letters_then_pairs() {
        let names: Vec<String> = [0, 25, 26, 51, 52, 53, 52 + 52 * 52 - 1]
            .into_iter()
            .map(short_name)
            .collect();
        assert_eq!(names, ["a", "z", "A", "Z", "aa", "ab", "ZZ"]);
    }
}
