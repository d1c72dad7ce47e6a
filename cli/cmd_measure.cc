// `tdsim measure`: the MRTD a TD launched from this image will report (TDREPORT
// offset 528), predicted from the same launch page order the KVM TDX backend uses.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "bootstub/measure/mrtd_json.h"
#include "commands.h"
#include "core/text_escape.h"
#include "firmware/tdvf_image.h"
#include "firmware/tdvf_measure.h"
#include "firmware/tdvf_metadata.h"
#include "input_file.h"
#include "parse_args.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

namespace {

using firmware::kMaxFirmwareFileBytes;

// `--firmware FILE`: the TD a TDVF image describes, measured as KVM + QEMU build it.
int measure_firmware(const std::string& path, const std::string& format) {
  const std::vector<uint8_t> image = read_input_file(path, "--firmware", kMaxFirmwareFileBytes);
  firmware::TdvfMetadata md;
  try {
    md = firmware::parse_tdvf(image);
  } catch (const firmware::FirmwareError& e) {
    throw UsageError(fmt::format("--firmware {}: {}", escape_text(path), e.what()));
  }
  const measure::Mrtd mrtd = firmware::predict_tdvf_mrtd(md, image);
  if (format == "hex") {
    fmt::print("{}\n", mrtd.hex());
    return 0;
  }
  nlohmann::json sections = nlohmann::json::array();
  for (const firmware::TdvfSection& s : md.sections)
    sections.push_back({{"type", firmware::to_string(s.type)},
                        {"gpa", fmt::format("{:#x}", s.gpa)},
                        {"size", fmt::format("{:#x}", s.size)},
                        {"data_offset", fmt::format("{:#x}", s.data_offset)},
                        {"raw_size", fmt::format("{:#x}", s.raw_size)},
                        {"attributes", fmt::format("{:#x}", s.attributes)},
                        {"measured", s.measured()}});
  const nlohmann::json out = {{"mrtd", mrtd.hex()},
                              {"order", measure::to_string(measure::MeasureOrder::kKvmPerPage)},
                              {"firmware", escape_text(path)},
                              {"metadata_offset", fmt::format("{:#x}", md.offset)},
                              {"sections", sections}};
  fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace

int cmd_measure(const std::vector<std::string>& args) {
  RunOptions ro;
  std::string format = "hex", order = "kvm-per-page", firmware_path;
  po::options_description desc("tdsim measure [options]");
  desc.add_options()
      ("format", po::value(&format)->default_value(format), "hex | json")
      ("firmware", po::value(&firmware_path),
       "a TDVF firmware image (OVMF with TDX): measure the TD its metadata describes instead of an image")
      ("order", po::value(&order)->default_value(order),
       "kvm-per-page (KVM: PAGE.ADD then its extends, page by page) | two-pass (old QEMU)");
  desc.add(run_options_description(ro));
  if (!parse_args(desc, args)) return 0;
  if (format != "hex" && format != "json")
    throw UsageError(fmt::format("--format: '{}' is not hex or json", format));
  measure::MeasureOrder mo;
  if (order == "kvm-per-page") mo = measure::MeasureOrder::kKvmPerPage;
  else if (order == "two-pass") mo = measure::MeasureOrder::kTwoPass;
  else throw UsageError(fmt::format("--order: '{}' is not kvm-per-page or two-pass", order));
  if (!firmware_path.empty()) {
    if (mo != measure::MeasureOrder::kKvmPerPage)
      throw UsageError("--order two-pass applies to tdsim images; --firmware is measured as KVM adds it");
    return measure_firmware(firmware_path, format);
  }

  const TdImage image = build_image(to_layout_spec(ro));
  if (format == "json")
    fmt::print("{}\n", measure::mrtd_report_json(image, mo).dump(2));
  else
    fmt::print("{}\n", measure::predict_mrtd(image, mo).hex());
  return 0;
}

}  // namespace tdsim::cli
