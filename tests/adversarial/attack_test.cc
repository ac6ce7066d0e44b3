#include "tests/adversarial/attack_test.h"

#include <signal.h>

#include "absl/strings/str_cat.h"

namespace sslshim::adversarial {

void IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }

std::unique_ptr<Target> StartBaselined(TargetKind kind,
                                       const TargetOptions& options) {
  absl::StatusOr<std::unique_ptr<Target>> t = Target::Start(kind, options);
  if (!t.ok()) {
    ADD_FAILURE() << t.status();
    return nullptr;
  }
  (*t)->Baseline();
  if ((*t)->baseline_fds() <= 0) {
    ADD_FAILURE() << "no baseline: " << (*t)->ExitDescription();
    return nullptr;
  }
  return *std::move(t);
}

void RecordFigures(const Target& target) {
  ::testing::Test::RecordProperty("baseline_fds", target.baseline_fds());
  ::testing::Test::RecordProperty("fds", target.FdCount());
  ::testing::Test::RecordProperty("baseline_rss_kb",
                                  absl::StrCat(target.baseline_rss_kb()));
  ::testing::Test::RecordProperty("rss_kb", absl::StrCat(target.RssKb()));
}

::testing::internal::ParamGenerator<TargetKind> BothTargets() {
  return ::testing::Values(TargetKind::kLibrary, TargetKind::kBinary);
}

std::string TargetParamName(const ::testing::TestParamInfo<TargetKind>& info) {
  return TargetName(info.param);
}

}  // namespace sslshim::adversarial
