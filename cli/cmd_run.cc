// `tdsim run`: build the image, run it on one backend, print events as they arrive.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "backends.h"
#include "bootstub/host/image_builder.h"
#include "commands.h"
#include "event_printer.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;

int cmd_run(const std::vector<std::string>& args) {
  RunOptions ro;
  std::string backend_name = "unicorn";
  po::options_description desc("tdsim run [options]");
  desc.add_options()("help,h", "this help")
      ("backend", po::value(&backend_name)->default_value(backend_name), "unicorn | kvm | kvm-tdx | auto");
  desc.add(run_options_description(ro));
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitDone;
  }
  po::notify(vm);

  const TdImage image = build_image(to_layout_spec(ro));
  const RunLimits limits = to_run_limits(ro);
  auto backend = make_backend(backend_name);

  std::vector<Event> events;
  backend->run(image, limits, [&](const Event& e) {
    events.push_back(e);
    print_event(stdout, e);
  });
  const Outcome outcome = classify(events, image.nr_vcpus);
  print_summary(stdout, backend->name(), outcome, events.size());
  return exit_code(outcome);
}

}  // namespace tdsim::cli
