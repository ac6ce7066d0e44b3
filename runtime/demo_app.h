// demo_app.h (internal to `sslshim demo`)
// -----------------------------------------------------------------------------
// The app half of the demo (see demo.h): what runs in the forked, sandboxed
// child, and the line protocol it speaks to the host over an AppChannel:
//
//   app -> host   "S\t<1|0>\t<what>\t<detail>"   a step, ok or FAIL
//                 "I\t<text>"                     an indented detail line
//                 "ROTATE"                        please rotate the server key
//                 "DONE"                          every step ran
//   host -> app   "ROTATED\t<generation>\t<sha256 prefix>" or "FAILED\t<why>"
//
// Text fields are absl::CEscape'd (no tabs or newlines on the wire).
//
//   demo_internal::RunDemoApp({.store_dir = dir, .kek = &kek}, host);

#ifndef SSLSHIM_RUNTIME_DEMO_APP_H_
#define SSLSHIM_RUNTIME_DEMO_APP_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certstore/key_path.h"
#include "certstore/sealing.h"
#include "runtime/app_process.h"

namespace sslshim::runtime::demo_internal {

// The tenant and its two records.
certstore::KeyPath TenantPath();  // Employee/asalieri
certstore::KeyPath ServerPath();  // Employee/asalieri/Address/1
certstore::KeyPath ClientPath();  // Employee/asalieri/Address/2

// Fingerprint is the first 8 bytes of SHA-256(der) in hex, then "...".
std::string Fingerprint(absl::string_view der);

// Wire helpers for the protocol above.
std::string StepLine(bool ok, absl::string_view what, absl::string_view detail);
std::string InfoLine(absl::string_view text);

// DemoAppConfig is what the host hands its app (all borrowed).
struct DemoAppConfig {
  std::string store_dir;                // The LMDB environment's directory.
  const certstore::Kek* kek = nullptr;  // Opens the sealed keys.
  absl::Duration step_timeout = absl::Seconds(5);
};

// RunDemoApp runs the app's steps, reporting each to `host`; it returns when
// done (the caller exits the process). It installs the no-write sandbox, so
// call it only in a child process made for it.
void RunDemoApp(const DemoAppConfig& config, AppChannel& host);

}  // namespace sslshim::runtime::demo_internal

#endif  // SSLSHIM_RUNTIME_DEMO_APP_H_
