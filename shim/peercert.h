// peercert.h: decoding an X.509 certificate into the dictionary CPython's
// SSLSocket.getpeercert() returns (the same code as ssl._ssl._test_decode_cert),
// field for field and string for string.
//
//   PyValue d = DecodeCertificate(x509);
//   // {'subject': ((('commonName', 'a.example'),),), 'issuer': ...,
//   //  'version': 3, 'serialNumber': '1A2B', 'notBefore': 'Jun  1 00:00:00
//   //  2025 GMT', 'notAfter': ..., 'subjectAltName': (('DNS', 'a.example'),)}

#ifndef SSLSHIM_SHIM_PEERCERT_H_
#define SSLSHIM_SHIM_PEERCERT_H_

#include "openssl/x509.h"
#include "shim/py_value.h"

namespace sslshim::shim {

// DecodeCertificate returns CPython's dictionary for `cert` (not owned; must
// be non-null): subject, issuer, version, serialNumber, notBefore, notAfter,
// and when present subjectAltName, OCSP, caIssuers, crlDistributionPoints.
// Never fails: parts BoringSSL cannot decode are rendered as CPython renders
// them ('<invalid>', '<unsupported>') or left out as CPython leaves them out.
PyValue DecodeCertificate(X509* cert);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_PEERCERT_H_
