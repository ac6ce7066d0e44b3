// py_value.h
// -----------------------------------------------------------------------------
// PyValue: a small model of the Python values getpeercert() returns (str,
// int, tuple, dict with insertion order), so the certificate dictionary has
// CPython's exact shape and can be rendered as Python repr or as JSON.
//
//   PyValue cert = ...;                      // from SSLSocket::getpeercert()
//   const PyValue* san = cert.Get("subjectAltName");
//   for (const PyValue& entry : san->items())  // (('DNS', 'a.com'), ...)
//     ... entry.items()[0].str() ...
//   std::string repr = cert.ToPythonRepr();  // {'subject': ((('commonName', ...
//   std::string json = cert.ToJson();        // {"subject": [[["commonName", ...
//
// Strings are UTF-8. A byte that is not valid UTF-8 is rendered as \xNN in
// repr and as \u00NN in JSON (never as U+FFFD), so both renderings stay
// valid and agree with each other.
//
// Thread-safety: a PyValue is a plain value; const methods may be called from
// several threads at once.

#ifndef SSLSHIM_SHIM_PY_VALUE_H_
#define SSLSHIM_SHIM_PY_VALUE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sslshim::shim {

// PyValue is one Python value: None, str, int, tuple or dict (str keys).
class PyValue {
 public:
  enum class Type { kNone, kStr, kInt, kTuple, kDict };

  // A None value.
  PyValue() = default;
  static PyValue Str(std::string s);
  static PyValue Int(int64_t i);
  static PyValue Tuple(std::vector<PyValue> items);
  static PyValue Dict(std::vector<std::pair<std::string, PyValue>> entries);

  Type type() const { return type_; }
  bool is_none() const { return type_ == Type::kNone; }

  // Accessors; calling the wrong one for the type returns an empty value.
  const std::string& str() const { return str_; }
  int64_t integer() const { return int_; }
  const std::vector<PyValue>& items() const { return items_; }  // Tuple.
  const std::vector<std::pair<std::string, PyValue>>& entries() const {
    return entries_;
  }  // Dict, in insertion order.

  // Get returns the dict value for `key`, or nullptr (also for non-dicts).
  const PyValue* Get(absl::string_view key) const;

  // Set appends or replaces a dict entry (keeps the original position). On a
  // None value it first turns the value into an empty dict; on a str, int or
  // tuple it does nothing.
  void Set(std::string key, PyValue value);

  // ToPythonRepr renders exactly as Python 3.11's repr() would: str quoting
  // and escapes as unicode_repr (str.isprintable of Unicode 14.0.0), "(x,)"
  // for 1-tuples, dicts in insertion order.
  std::string ToPythonRepr() const;

  // ToJson renders tuples as arrays, dicts as objects, None as null, ints in
  // decimal. Strings keep valid UTF-8 as is and escape '"', '\\' and control
  // characters (NUL as \u0000). The result always parses as JSON.
  std::string ToJson() const;

  // operator== compares type and contents (dict entries in order).
  bool operator==(const PyValue& other) const;
  bool operator!=(const PyValue& other) const { return !(*this == other); }

 private:
  Type type_ = Type::kNone;
  std::string str_;
  int64_t int_ = 0;
  std::vector<PyValue> items_;
  std::vector<std::pair<std::string, PyValue>> entries_;
};

}  // namespace sslshim::shim

#endif  // SSLSHIM_SHIM_PY_VALUE_H_
