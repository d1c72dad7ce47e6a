#include "target_description.h"

#include <fmt/format.h>

#include "rsp_packet.h"

namespace tdsim::gdbstub {

namespace {

constexpr const char* kEflagsType = R"(    <flags id="i386_eflags" size="4">
      <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
      <field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
      <field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
      <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
      <field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
      <field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
      <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
      <field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
      <field name="ID" start="21" end="21"/>
    </flags>
)";

constexpr const char* kSseTypes = R"(    <vector id="v4f" type="ieee_single" count="4"/>
    <vector id="v2d" type="ieee_double" count="2"/>
    <vector id="v16i8" type="int8" count="16"/>
    <vector id="v8i16" type="int16" count="8"/>
    <vector id="v4i32" type="int32" count="4"/>
    <vector id="v2i64" type="int64" count="2"/>
    <union id="vec128">
      <field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
      <field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
      <field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
      <field name="uint128" type="uint128"/>
    </union>
    <flags id="i386_mxcsr" size="4">
      <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
      <field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
      <field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
      <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
      <field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
      <field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
      <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
    </flags>
)";

std::string build(Layout l) {
  std::string x = fmt::format(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
      "  <architecture>{}</architecture>\n",
      l == Layout::kAmd64 ? "i386:x86-64" : "i386");
  std::string_view open;
  for (const GdbRegister& r : gdb_registers(l)) {
    if (r.feature != open) {
      if (!open.empty()) x += "  </feature>\n";
      x += fmt::format("  <feature name=\"{}\">\n", r.feature);
      if (std::string_view(r.feature) == "org.gnu.gdb.i386.core") x += kEflagsType;
      if (std::string_view(r.feature) == "org.gnu.gdb.i386.sse") x += kSseTypes;
      open = r.feature;
    }
    x += fmt::format("    <reg name=\"{}\" bitsize=\"{}\" type=\"{}\"{}/>\n", r.name, r.size * 8, r.type,
                     r.group ? fmt::format(" group=\"{}\"", r.group) : std::string());
  }
  x += "  </feature>\n</target>\n";
  return x;
}

// Binary data in a packet: '#', '$', '}' and '*' are sent as '}' + (byte ^ 0x20).
std::string escape_binary(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '#' || c == '$' || c == '}' || c == '*') {
      out += '}';
      out += static_cast<char>(c ^ 0x20);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

const std::string& target_xml(Layout l) {
  static const std::string amd64 = build(Layout::kAmd64), i386 = build(Layout::kI386);
  return l == Layout::kI386 ? i386 : amd64;
}

std::string features_read(std::string_view args, Layout l) {
  const size_t colon = args.find(':');
  if (colon == std::string_view::npos) return "E01";
  if (args.substr(0, colon) != "target.xml") return "E00";
  const std::string_view range = args.substr(colon + 1);
  const size_t comma = range.find(',');
  if (comma == std::string_view::npos) return "E01";
  const auto off = parse_hex_u64(range.substr(0, comma));
  const auto len = parse_hex_u64(range.substr(comma + 1));
  if (!off || !len) return "E01";
  const std::string& xml = target_xml(l);
  if (*off >= xml.size()) return "l";
  const std::string_view part = std::string_view(xml).substr(*off, *len);
  return (*off + part.size() >= xml.size() ? "l" : "m") + escape_binary(part);
}

}  // namespace tdsim::gdbstub
