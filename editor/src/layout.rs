//! How Format lays a document out: two-space pretty-printing, with a budget of lines.
//!
//! Chromium lays out a `<textarea>`'s whole text, and its cost goes with the number of lines,
//! not the bytes. Measured in headless Chromium 156 on this project's 1 MiB test model
//! (`docs/editor.md`, "Large documents"): 18,133 lines took 2.07 s to lay out and up to
//! 186 ms per keystroke; the same bytes in 4,538 lines took 0.37 s and 13–18 ms; in 2,272
//! lines 0.38 s and 8–12 ms; in one line 0.23 s but 62–89 ms per keystroke. So a document
//! whose full pretty form has more than [`LINE_BUDGET`] lines keeps the outer levels
//! expanded and packs the level that would overflow: its members, each written compact, share
//! lines of about [`packed_width`] bytes.
//!
//! Written through `serde_json`'s [`Formatter`] (the same hooks its `PrettyFormatter` uses)
//! and `serde_transcode`, so the key order and the numbers' text stay as they were.
use std::{cell::Cell, io, rc::Rc};

use serde_json::ser::Formatter;

/// Lines a document may take before its deepest levels are packed.
pub const LINE_BUDGET: usize = 4_000;
const INDENT: &[u8] = b"  ";

/// Which levels are expanded, and how wide packed lines get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Containers nested less deep than this (the root is level 0) put each member on a line.
    pub expand_below: usize,
    /// The level (if any) whose members share lines of up to `width` bytes.
    pub pack_level: Option<usize>,
    pub width: usize,
}

impl Plan {
    pub const FULL: Plan = Plan {
        expand_below: usize::MAX,
        pack_level: None,
        width: 0,
    };

    /// The plan for a measured document: fully pretty if that stays within
    /// the budget, else expanded down to the level that would overflow it, which is packed.
    /// `measured` is a [`Plan::FULL`] pass over the document, `len` its compact size.
    pub fn for_layout(measured: &Layout, len: usize) -> Plan {
        if measured.lines_below(usize::MAX) <= LINE_BUDGET {
            return Plan::FULL;
        }
        let levels = measured.per_level.len();
        let over = (1..=levels)
            .find(|&l| measured.lines_below(l) > LINE_BUDGET)
            .unwrap_or(levels);
        Plan {
            expand_below: over - 1,
            pack_level: Some(over - 1),
            width: packed_width(len),
        }
    }
}

/// Packed lines' width for a document of `len` bytes: about 3,000 lines of it, at least 120.
pub fn packed_width(len: usize) -> usize {
    (len / 3_000).max(120)
}

/// The state of one formatting pass: where it is, and what it has seen. A pass with
/// [`Plan::FULL`] measures the document for [`Plan::for_layout`].
#[derive(Debug)]
pub struct Layout {
    plan: Plan,
    /// Members so far of each open container; the innermost is last.
    open: Vec<usize>,
    has_value: bool,
    /// Per nesting level, the lines its non-empty containers take when expanded: one per
    /// member and one for the closing bracket.
    per_level: Vec<usize>,
    /// Bytes of newlines, indentation and the space after `:` written so far.
    spacing: usize,
}

impl Layout {
    pub fn new(plan: Plan) -> Layout {
        Layout {
            plan,
            open: Vec::new(),
            has_value: false,
            per_level: Vec::new(),
            spacing: 0,
        }
    }

    /// Lines of the document when levels below `level` are expanded.
    pub fn lines_below(&self, level: usize) -> usize {
        1 + self.per_level.iter().take(level).sum::<usize>()
    }

    /// Bytes of the document written compact, from a pass that wrote `written` bytes.
    pub fn compact_len(&self, written: usize) -> usize {
        written - self.spacing
    }

    fn expanded(&self, level: usize) -> bool {
        level < self.plan.expand_below || self.plan.pack_level == Some(level)
    }
}

/// serde_json's [`Formatter`] for a [`Layout`] pass.
pub struct Planned<'a> {
    pub layout: &'a mut Layout,
    /// Bytes written since the last newline, kept by [`Column`].
    pub column: Rc<Cell<usize>>,
}

impl Planned<'_> {
    fn newline<W: ?Sized + io::Write>(&mut self, w: &mut W, indent: usize) -> io::Result<()> {
        self.layout.spacing += 1 + indent * INDENT.len();
        w.write_all(b"\n")?;
        for _ in 0..indent {
            w.write_all(INDENT)?;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.layout.open.push(0);
        self.layout.has_value = false;
        w.write_all(bracket)
    }

    /// Before a member of the innermost container.
    fn member<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        let depth = self.layout.open.len();
        if let Some(n) = self.layout.open.last_mut() {
            *n += 1;
        }
        if !first {
            w.write_all(b",")?;
        }
        let level = depth - 1;
        if !self.layout.expanded(level) {
            return Ok(());
        }
        let packed = self.layout.plan.pack_level == Some(level);
        if packed && !first && self.column.get() < self.layout.plan.width {
            self.layout.spacing += 1;
            return w.write_all(b" ");
        }
        self.newline(w, depth)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        let members = self.layout.open.pop().unwrap_or(0);
        let level = self.layout.open.len();
        if self.layout.per_level.len() <= level {
            self.layout.per_level.resize(level + 1, 0);
        }
        if members > 0 {
            self.layout.per_level[level] += members + 1;
        }
        if self.layout.has_value && self.layout.expanded(level) {
            self.newline(w, level)?;
        }
        w.write_all(bracket)
    }

    fn value_done(&mut self) -> io::Result<()> {
        self.layout.has_value = true;
        Ok(())
    }
}

impl Formatter for Planned<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.member(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.value_done()
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.member(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.layout.expanded(self.layout.open.len() - 1) {
            self.layout.spacing += 1;
            w.write_all(b": ")
        } else {
            w.write_all(b":")
        }
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.value_done()
    }
}

/// A writer that keeps the count of bytes since the last newline for [`Planned`].
pub struct Column<W> {
    pub inner: W,
    pub column: Rc<Cell<usize>>,
}

impl<W: io::Write> io::Write for Column<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = &buf[..n];
        match written.iter().rposition(|&b| b == b'\n') {
            Some(at) => self.column.set(n - at - 1),
            None => self.column.set(self.column.get() + n),
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
