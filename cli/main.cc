// tdsim: boot TD images on a backend and report what happened. Subcommands live in
// cmd_<name>.cc; this file only dispatches and turns errors into documented exit codes.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bootstub/host/layout_spec.h"
#include "commands.h"
#include "core/backend.h"
#include "core/outcome.h"
#include "core/text_escape.h"
#include "run_options.h"
#include "sim/engine.h"

using namespace tdsim;

namespace {

using Command = int (*)(const std::vector<std::string>&);

const std::map<std::string, std::pair<Command, const char*>>& commands() {
  static const std::map<std::string, std::pair<Command, const char*>> table = {
      {"run", {cli::cmd_run, "boot an image on a backend and print its events"}},
      {"diff", {cli::cmd_diff, "run one image on two backends and compare the event streams"}},
      {"probe", {cli::cmd_probe, "what this host can run (KVM, TDX) and why not"}},
      {"measure", {cli::cmd_measure, "predict the TD measurement (MRTD) of an image"}},
      {"lint", {cli::cmd_lint, "check an image against the TDX boot ABI without running it"}},
      {"conformance", {cli::cmd_conformance, "run the TDX conformance guest; KTAP out, exit 0 pass, 1 fail, 4 skip"}},
      {"validate", {cli::cmd_validate, "probe, run, conformance, diff, measure on every backend; one KTAP report"}},
      {"exec", {cli::cmd_exec, "run a KVM program (-- PROGRAM [ARGS]) against a user-space KVM with TDX"}},
  };
  return table;
}

int usage(std::FILE* out) {
  fmt::print(out, "usage: tdsim <command> [options]   (tdsim <command> --help for its options)\n\ncommands:\n");
  for (const auto& [name, cmd] : commands()) fmt::print(out, "  {:<12} {}\n", name, cmd.second);
  return out == stdout ? kExitDone : kExitUsage;
}

// Layout fields as the user spelled them on the command line.
std::string option_for_field(const std::string& field) {
  static const std::map<std::string, std::string> names = {
      {"nr_vcpus", "--vcpus"}, {"mem_size", "--mem"}, {"guest_elf", "--guest"},
      {"stub", "--stub"},      {"gpaw", "--gpaw"}};
  for (const auto& [f, opt] : names)
    if (field.rfind(f, 0) == 0) return opt + " (" + field + ")";
  return field;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") return usage(stdout);
  if (name == "--version") {
    fmt::print("tdsim {}\n", TDSIM_VERSION);  // project(VERSION) in CMakeLists.txt
    return kExitDone;
  }
  auto it = commands().find(name);
  if (it == commands().end()) {
    fmt::print(stderr, "tdsim: unknown command '{}'\n", escape_text(name));
    return usage(stderr);
  }
  // Every command but exec runs its engines in this process; exec's program (a VMM that
  // may want huge pages for its guest memory) would inherit the setting.
  if (name != "exec") sim::keep_code_buffers_off_huge_pages();
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    return it->second.first(args);
  } catch (const boost::program_options::error& e) {
    fmt::print(stderr, "tdsim {}: {}\n", name, escape_text(e.what()));
    return kExitUsage;
  } catch (const cli::UsageError& e) {
    fmt::print(stderr, "tdsim {}: {}\n", name, escape_text(e.what()));
    return kExitUsage;
  } catch (const LayoutError& e) {
    std::string msg = e.what();
    msg = msg.substr(std::min(msg.size(), e.field().size() + 2));
    fmt::print(stderr, "tdsim {}: invalid image: {}: {}\n", name, option_for_field(e.field()), escape_text(msg));
    return kExitUsage;
  } catch (const BackendUnsupported& e) {
    fmt::print(stderr, "tdsim {}: SKIP: {}\n", name, escape_text(e.what()));
    return kExitSkip;
  } catch (const BackendError& e) {
    fmt::print(stderr, "tdsim {}: backend error: {}\n", name, escape_text(e.what()));
    return kExitBackend;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "tdsim {}: out of memory\n", name);
    return kExitBackend;
  } catch (const std::exception& e) {
    // Anything else is an environment failure (a full disk, ...) or a tdsim bug: one
    // line, the documented code, never an abort. The text is escaped: it may quote input.
    fmt::print(stderr, "tdsim {}: error: {}\n", name, escape_text(e.what()));
    return kExitBackend;
  } catch (...) {
    fmt::print(stderr, "tdsim {}: internal error: an exception that is not a std::exception\n", name);
    return kExitBackend;
  }
}
