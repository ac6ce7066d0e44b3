// cert_commands.h
// -----------------------------------------------------------------------------
// The offline certificate subcommands:
//
//   sslshim verify --ca-bundle ca.pem --chain store:Web/api --hostname api.test
//   {"ok":true,"verify_code":0,"verify_message":"ok","chain":["CN=api.test",...]}
//   sslshim peercert server.pem            # getpeercert() as JSON
//   sslshim peercert --repr server.pem     # ... as Python repr
//   sslshim match-hostname --cert-json cert.json --hostname a.example
//   sslshim: hostname 'a.example' doesn't match 'b.example'     (exit 1)
//
// Every FILE argument also accepts store:<key path>[#field].

#ifndef SSLSHIM_RUNTIME_CLI_CERT_COMMANDS_H_
#define SSLSHIM_RUNTIME_CLI_CERT_COMMANDS_H_

#include <string>
#include <vector>

namespace sslshim::runtime::cli {

// RunVerify verifies the first certificate of --chain (the rest are
// untrusted intermediates) against --ca-bundle as a TLS client would, and
// prints a JSON verdict. Exit 0 verified, 1 not, 2 usage/unreadable, 3 bad
// certificate data.
int RunVerify(const std::vector<std::string>& args);

// RunPeercert prints the getpeercert() structure of the first certificate
// in FILE (leading non-PEM text skipped) as JSON, or as Python repr with
// --repr. Exit 0, 2 unreadable, 3 no certificate in FILE.
int RunPeercert(const std::vector<std::string>& args);

// RunMatchHostname runs match_hostname on a getpeercert()-shaped JSON
// document (--cert-json) or a PEM certificate (--cert). Exit 0 match, 1
// CertificateError (CPython's message on stderr), 3 ValueError.
int RunMatchHostname(const std::vector<std::string>& args);

}  // namespace sslshim::runtime::cli

#endif  // SSLSHIM_RUNTIME_CLI_CERT_COMMANDS_H_
