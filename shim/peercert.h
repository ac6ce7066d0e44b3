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

#include <string>

#include "openssl/x509.h"
#include "shim/py_value.h"

namespace sslshim::shim {

// DecodeCertificate returns CPython's dictionary for `cert` (not owned; must
// be non-null): subject, issuer, version, serialNumber, notBefore, notAfter,
// and when present subjectAltName, OCSP, caIssuers, crlDistributionPoints.
// Never fails: parts BoringSSL cannot decode are rendered as CPython renders
// them ('<invalid>', '<unsupported>') or left out as CPython leaves them out.
//
// Known differences from CPython 3.11 on OpenSSL 3.0, all for certificates
// CPython itself cannot decode or decodes by accident:
//  - a name value ASN1_STRING_to_UTF8 rejects, or a DNS/email/URI/othername
//    value that is not valid UTF-8, makes CPython raise; here the raw bytes
//    are kept (and PyValue escapes them when rendering).
//  - a CRL distribution point given as nameRelativeToCRLIssuer is read by
//    CPython as if it were a list of full names; here it is skipped.
//  - object names follow OpenSSL 3.0.19's table (see kOpenSsl3Names in
//    peercert.cc); OIDs added to OpenSSL later print dotted here.
//
// Thread-safety: safe to call concurrently, also on the same `cert`.
PyValue DecodeCertificate(X509* cert);

// SubjectCommonName returns the first commonName of the subject of a
// getpeercert() dictionary, or "" when there is none (or `cert` is not a
// dictionary, e.g. None for a peer without a certificate).
std::string SubjectCommonName(const PyValue& cert);

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_PEERCERT_H_
