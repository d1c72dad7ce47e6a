// `tdsim measure`: the MRTD a TD launched from this image will report (TDREPORT
// offset 528), predicted from the same launch page order the KVM TDX backend uses.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "bootstub/measure/mrtd_json.h"
#include "commands.h"
#include "parse_args.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_measure(const std::vector<std::string>& args) {
  RunOptions ro;
  std::string format = "hex", order = "kvm-per-page";
  po::options_description desc("tdsim measure [options]");
  desc.add_options()
      ("format", po::value(&format)->default_value(format), "hex | json")
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

  const TdImage image = build_image(to_layout_spec(ro));
  if (format == "json")
    fmt::print("{}\n", measure::mrtd_report_json(image, mo).dump(2));
  else
    fmt::print("{}\n", measure::predict_mrtd(image, mo).hex());
  return 0;
}

}  // namespace tdsim::cli
