#include "td_config_options.h"

#include <fmt/format.h>

#include <string_view>

#include "core/text_escape.h"
#include "run_options.h"
#include "tdx/td_cpuid.h"

namespace tdsim::cli {

namespace po = boost::program_options;

namespace {

struct NamedAttribute {
  const char* name;
  uint64_t bit;
};
constexpr NamedAttribute kAttributes[] = {
    {"debug", tdx::kAttrDebug},
    {"sept_ve_disable", tdx::kAttrSeptVeDisable},
    {"pks", tdx::kAttrPks},
    {"perfmon", tdx::kAttrPerfmon},
};
constexpr uint64_t kKnownAttributes = tdx::kAttrDebug | tdx::kAttrSeptVeDisable | tdx::kAttrPks | tdx::kAttrPerfmon;
// The XFAM components the TD CPUID model knows (tdx/td_cpuid.h): x87, SSE, AVX, AVX-512,
// PKRU, AMX.
constexpr uint64_t kKnownXfam = tdx::kXfamX87Sse | tdx::kXfamAvx | tdx::kXfamAvx512 | tdx::kXfamPkru | tdx::kXfamAmx;

uint64_t parse_attributes(const std::string& text) {
  const bool numeric = !text.empty() && text[0] >= '0' && text[0] <= '9';
  if (numeric) {
    const uint64_t v = parse_number(text, "td-attributes", 0, UINT64_MAX);
    if (v & ~kKnownAttributes)
      throw UsageError(fmt::format("--td-attributes: {:#x} sets bits {:#x} tdsim does not model (debug bit 0, "
                                   "sept_ve_disable 28, pks 30, perfmon 63)",
                                   v, v & ~kKnownAttributes));
    return v;
  }
  uint64_t v = 0;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    bool found = false;
    for (const NamedAttribute& a : kAttributes)
      if (name == a.name) v |= a.bit, found = true;
    if (!found)
      throw UsageError(fmt::format("--td-attributes: '{}' is not an attribute (debug, sept_ve_disable, pks, "
                                   "perfmon, or a number)",
                                   escape_text(std::string(name))));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return v;
}

uint64_t parse_xfam(const std::string& text) {
  const uint64_t v = parse_number(text, "xfam", 0, UINT64_MAX);
  if ((v & tdx::kXfamX87Sse) != tdx::kXfamX87Sse)
    throw UsageError(fmt::format("--xfam: {:#x} lacks x87 and SSE (bits 0 and 1 must be set)", v));
  if (v & ~kKnownXfam)
    throw UsageError(fmt::format("--xfam: {:#x} sets components {:#x} tdsim does not model (known: {:#x})", v,
                                 v & ~kKnownXfam, kKnownXfam));
  if ((v & tdx::kXfamAvx512) && ((v & tdx::kXfamAvx512) != tdx::kXfamAvx512 || !(v & tdx::kXfamAvx)))
    throw UsageError(fmt::format("--xfam: {:#x}: AVX-512 needs all of bits 5..7 and AVX (bit 2)", v));
  if ((v & tdx::kXfamAmx) && (v & tdx::kXfamAmx) != tdx::kXfamAmx)
    throw UsageError(fmt::format("--xfam: {:#x}: AMX needs both bits 17 and 18", v));
  return v;
}

std::array<uint8_t, 48> parse_digest(const std::string& text, const char* option) {
  std::array<uint8_t, 48> out{};
  if (text.empty()) return out;
  std::string_view t = text;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
  if (t.size() != 96)
    throw UsageError(fmt::format("--{}: {} hex digits; a SHA-384 value is 48 bytes = 96 digits", option, t.size()));
  for (size_t j = 0; j < t.size(); ++j) {
    const char c = t[j];
    unsigned v = 0;
    if (c >= '0' && c <= '9') v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = static_cast<unsigned>(c - 'A' + 10);
    else
      throw UsageError(fmt::format("--{}: '{}' at digit {} is not a hex digit", option,
                                   escape_text(std::string(1, c)), j + 1));
    out[j / 2] = static_cast<uint8_t>(out[j / 2] | (j % 2 ? v : v << 4));
  }
  return out;
}

}  // namespace

po::options_description td_config_description(TdConfigOptions& o) {
  po::options_description d("TD configuration (KVM_TDX_INIT_VM)");
  d.add_options()
      ("td-attributes", po::value(&o.attributes)->default_value(o.attributes),
       "TD ATTRIBUTES: a comma list of debug, sept_ve_disable, pks, perfmon, or a number")
      ("xfam", po::value(&o.xfam)->default_value(o.xfam),
       "XFAM (XSAVE components the TD may enable; drives CPUID 0xd): x87|SSE 0x3 plus AVX 0x4, AVX-512 0xe0, "
       "PKRU 0x200, AMX 0x60000")
      ("max-vcpus", po::value(&o.max_vcpus), "the TD's MAX_VCPUS (TDG.VP.INFO R8[63:32]); default: KVM's limit, 64 here (KVM_CAP_MAX_VCPUS)")
      ("mrconfigid", po::value(&o.mrconfigid), "MRCONFIGID: 48 bytes as 96 hex digits (TDREPORT)")
      ("mrowner", po::value(&o.mrowner), "MROWNER: 48 bytes as 96 hex digits (TDREPORT)")
      ("mrownerconfig", po::value(&o.mrownerconfig), "MROWNERCONFIG: 48 bytes as 96 hex digits (TDREPORT)");
  return d;
}

tdx::TdxConfig to_td_config(const TdConfigOptions& o, uint32_t nr_vcpus) {
  tdx::TdxConfig c;
  c.attributes = parse_attributes(o.attributes);
  c.xfam = parse_xfam(o.xfam);
  if (!o.max_vcpus.empty()) {
    // TDH.MNG.INIT takes MAX_VCPUS as 16 bits; the TD must fit the vCPUs it runs.
    c.max_vcpus = static_cast<uint32_t>(parse_number(o.max_vcpus, "max-vcpus", 1, 0xffff));
    if (c.max_vcpus < nr_vcpus)
      throw UsageError(fmt::format("--max-vcpus: {} is below --vcpus {}", c.max_vcpus, nr_vcpus));
  }
  c.mrconfigid = parse_digest(o.mrconfigid, "mrconfigid");
  c.mrowner = parse_digest(o.mrowner, "mrowner");
  c.mrownerconfig = parse_digest(o.mrownerconfig, "mrownerconfig");
  return c;
}

}  // namespace tdsim::cli
