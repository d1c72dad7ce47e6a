// The one escaping every tdsim output applies to text it does not control (guest
// strings, ELF symbol names, anything quoted into a line): printable ASCII passes,
// a backslash becomes "\\", every other byte "\xHH" (two lower-case hex digits).
// The result is printable ASCII (so valid UTF-8 and JSON-safe), holds no line break or
// terminal control, and decodes back to the exact bytes (unescape_text). One scheme for
// text, KTAP, JSON and trace lines: docs/output-formats.md.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace tdsim {

// `also` (optional) is one more printable character to write as "\xHH", for a caller
// that puts the text between delimiters (a trace line quotes with '"').
std::string escape_text(std::string_view raw, char also = '\0');

// The bytes escape_text() encoded; nullopt for text it cannot have produced (a lone
// backslash, "\x" without two hex digits, a byte outside printable ASCII).
std::optional<std::string> unescape_text(std::string_view escaped);

}  // namespace tdsim
