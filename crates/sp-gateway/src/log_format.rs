//! The text log line, as `tracing-subscriber`'s default writes it without
//! colours (`2026-11-25T00:30:11.554908Z  INFO request{request_id=…}: target: message k=v`),
//! for a fraction of its cost.
//!
//! The gateway writes a line per request. Counted with callgrind (bench/README.md,
//! "Fifth session"), the default formatter spent ~8k instructions on it: each
//! field name and `=` go through `nu_ansi_term` styles even with colours off, and
//! the timestamp is formatted from scratch every time. Here fields are written
//! straight into the line and the date and time to the second are formatted
//! once per second. With colours on (a terminal) the default formatter stays.
//! What the default does beyond layout is kept: records from the `log` crate
//! show their own target and hide their `log.*` fields, and control characters
//! in messages and errors are escaped (no terminal escape injected through a log).

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event format.
pub struct Line;

/// The field format, of events and of spans (`{request_id=…}`).
pub struct Fields;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        timestamp(&mut w)?;
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        w.write_str(level(meta.level()))?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                w.write_str(span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>().filter(|f| !f.is_empty()) {
                    write!(w, "{{{fields}}}")?;
                }
                w.write_str(": ")?;
            }
        }
        w.write_str(meta.target())?;
        w.write_str(": ")?;
        ctx.format_fields(w.by_ref(), event)?;
        w.write_char('\n')
    }
}

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, w: Writer<'w>, fields: R) -> fmt::Result {
        let mut v = Visitor { w, first: true, result: Ok(()) };
        fields.record(&mut v);
        v.result
    }
}

/// Writes `message` as is and every other field as ` name=value` (strings quoted, as `Debug` does).
struct Visitor<'w> {
    w: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    fn name(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.w.write_char(' ')?;
        }
        self.w.write_str(bare_name(field))?;
        self.w.write_char('=')
    }

    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        self.result = if field.name() == "message" {
            let sep = if std::mem::take(&mut self.first) { Ok(()) } else { self.w.write_char(' ') };
            sep.and_then(|()| value(&mut self.w))
        } else {
            self.name(field).and_then(|()| value(&mut self.w))
        };
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, |w| Escaping(w).write_str(value));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    /// As the default: the error, then ` name.sources=[...]` when it has any.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let name = bare_name(field);
        self.write(field, |w| {
            write!(Escaping(w), "{value}")?;
            let Some(mut source) = value.source() else { return Ok(()) };
            write!(w, " {name}.sources=[")?;
            loop {
                write!(Escaping(w), "{source}")?;
                match source.source() {
                    Some(next) => {
                        w.write_str(", ")?;
                        source = next;
                    }
                    None => return w.write_char(']'),
                }
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.write(field, |w| write!(Escaping(w), "{value:?}"));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }
}

/// A field's name without the `r#` of a raw identifier (`r#type` is `type`).
fn bare_name(field: &Field) -> &'static str {
    let name = field.name();
    name.strip_prefix("r#").unwrap_or(name)
}

/// Writes through, escaping the control characters a terminal acts on, as the
/// default formatter does for messages and errors.
struct Escaping<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", ch as u32)?,
                _ => self.0.write_char(ch)?,
            }
        }
        Ok(())
    }
}

fn level(l: &Level) -> &'static str {
    match *l {
        Level::TRACE => " TRACE ",
        Level::DEBUG => " DEBUG ",
        Level::INFO => "  INFO ",
        Level::WARN => "  WARN ",
        Level::ERROR => " ERROR ",
    }
}

thread_local! {
    /// The second last formatted on this thread, and its `2026-11-25T00:30:11` text.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-11-25T00:30:11.554908Z` (UTC, microseconds), as the default formatter writes it.
fn timestamp(w: &mut Writer<'_>) -> fmt::Result {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            text.clear();
            let at = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
            write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
            *cached = secs;
        }
        w.write_str(text)
    })?;
    write!(w, ".{:06}Z", now.subsec_micros())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn lines(f: impl FnOnce(), lean: bool) -> String {
        let buf = Buf::default();
        let b = tracing_subscriber::fmt().with_ansi(false).with_writer(buf.clone());
        if lean {
            tracing::subscriber::with_default(b.event_format(Line).fmt_fields(Fields).finish(), f);
        } else {
            tracing::subscriber::with_default(b.finish(), f);
        }
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[derive(Debug)]
    struct Failed(Option<Box<Failed>>, &'static str);

    impl fmt::Display for Failed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.1)
        }
    }

    impl std::error::Error for Failed {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.0.as_deref().map(|e| e as _)
        }
    }

    fn events() {
        let span = tracing::info_span!("request", request_id = %"0193a1");
        let _g = span.enter();
        tracing::info!(method = %"POST", path = "/v1/chat", status = 200u16, ms = format_args!("{:.2}", 1.5), "request");
        tracing::warn!(error = %"boom", retry = true, n = -3i64, r#type = "x", "upstream attempt failed");
        // Control characters in a message are escaped; errors list their sources.
        tracing::error!("bad \x1b[31mpath\x1b[0m \u{9b}");
        let err = Failed(Some(Box::new(Failed(Some(Box::new(Failed(None, "refused \x07"))), "connect"))), "send");
        tracing::error!(error = &err as &dyn std::error::Error, "call failed");
        tracing::error!(error = &Failed(None, "alone") as &dyn std::error::Error);
        // A record of the `log` crate, as `LogTracer` turns it into an event.
        tracing_log::log::logger().log(
            &tracing_log::log::Record::builder()
                .args(format_args!("from log"))
                .level(tracing_log::log::Level::Warn)
                .target("some::crate")
                .module_path_static(Some("some::crate"))
                .file_static(Some("src/lib.rs"))
                .line(Some(7))
                .build(),
        );
    }

    #[test]
    fn lines_read_as_the_default_formatter_writes_them() {
        // `log` records reach tracing as `try_init` arranges it in `logging::init`.
        let _ = tracing_log::LogTracer::init();
        let (ours, theirs) = (lines(events, true), lines(events, false));
        // The same text after the timestamp (which differs by microseconds).
        let tail = |s: &str| s.lines().map(|l| l.split_once('Z').unwrap().1.to_string()).collect::<Vec<_>>();
        assert_eq!(tail(&ours), tail(&theirs));
        assert_eq!(tail(&ours).len(), 6, "{ours}");
        assert!(ours.contains("bad \\x1b[31mpath\\x1b[0m \\u{9b}\n"), "{ours}");
        assert!(ours.contains("call failed error=send error.sources=[connect, refused \\x07]\n"), "{ours}");
        assert!(ours.contains("  WARN request{request_id=0193a1}: some::crate: from log\n"), "{ours}");
        assert!(ours.contains(
            "  INFO request{request_id=0193a1}: sp_gateway::log_format::tests: request method=POST path=\"/v1/chat\" status=200 ms=1.50\n"
        ));
        // 2026-11-25T00:30:11.554908Z
        let stamp = ours.split_once(' ').unwrap().0;
        assert_eq!(stamp.len(), 27, "{stamp}");
        assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok(), "{stamp}");
    }
}
