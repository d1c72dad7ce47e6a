// `tdsim diff --backends A,B`: run one image on two backends and compare what the
// guest reported (per-vCPU ucalls, then the outcome). Exit 0 when they agree, 1 on the
// first divergence, which is printed; 4 (skip) when one of them cannot run here.
#include <fmt/format.h>

#include <boost/program_options.hpp>

#include "backends.h"
#include "bootstub/host/image_builder.h"
#include "commands.h"
#include "parse_args.h"
#include "core/event_diff.h"
#include "core/outcome.h"
#include "core/text_escape.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

namespace {

std::pair<std::string, std::string> split_pair(const std::string& s) {
  auto comma = s.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == s.size() ||
      s.find(',', comma + 1) != std::string::npos)
    throw UsageError(fmt::format("--backends: expected two names like unicorn,kvm, got '{}'", s));
  return {s.substr(0, comma), s.substr(comma + 1)};
}

}  // namespace

int cmd_diff(const std::vector<std::string>& args) {
  RunOptions ro;
  std::string backends = "unicorn,kvm";
  po::options_description desc("tdsim diff [options]");
  desc.add_options()
      ("backends", po::value(&backends)->default_value(backends), "two backends to compare, e.g. unicorn,kvm");
  desc.add(run_options_description(ro));
  if (!parse_args(desc, args)) return 0;

  auto [left_name, right_name] = split_pair(backends);
  const host::BackendInfo &left_info = backend_info(left_name), &right_info = backend_info(right_name);
  auto left = left_info.make_backend({}), right = right_info.make_backend({});
  const TdImage image = build_image(to_layout_spec(ro));
  const RunLimits limits = to_run_limits(ro);
  for (const host::BackendInfo* b : {&left_info, &right_info})
    if (std::string why = unavailable_reason(*b); !why.empty()) {
      fmt::print("tdsim diff: SKIP: {}\n", escape_text(why));
      return kExitSkip;
    }

  const std::vector<Event> a = run_collect(*left, image, limits);
  const std::vector<Event> b = run_collect(*right, image, limits);
  fmt::print("{}: {} events, outcome {}\n", left->name(), a.size(), to_string(classify(a, image.nr_vcpus)));
  fmt::print("{}: {} events, outcome {}\n", right->name(), b.size(), to_string(classify(b, image.nr_vcpus)));

  auto d = first_divergence(a, b, image.nr_vcpus);
  if (!d) {
    fmt::print("tdsim diff: {} and {} agree\n", left->name(), right->name());
    return 0;
  }
  if (d->vcpu)
    fmt::print("tdsim diff: first divergence at vcpu {} ucall #{}:\n  {}: {}\n  {}: {}\n", *d->vcpu,
               d->index, left->name(), escape_text(d->left), right->name(), escape_text(d->right));
  else
    fmt::print("tdsim diff: same ucalls, different outcome:\n  {}: {}\n  {}: {}\n", left->name(),
               d->left, right->name(), d->right);
  return 1;
}

}  // namespace tdsim::cli
