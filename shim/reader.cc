#include "shim/reader.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "openssl/mem.h"
#include "pki/bounded_file.h"
#include "shim/errors.h"

namespace sslshim::shim {
namespace {

absl::Status ReaderError(absl::StatusCode code, absl::string_view message) {
  return MakeError(ErrorKind::kSSLError, code, message);
}

class StringReader : public Reader {
 public:
  explicit StringReader(std::string content) : content_(std::move(content)) {}
  ~StringReader() override { WipeString(content_); }
  absl::StatusOr<std::string> read() override { return content_; }
  std::string name() const override { return "StringIO"; }

 private:
  std::string content_;
};

class PathReader : public Reader {
 public:
  explicit PathReader(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<std::string> read() override {
    return read_at_most(kMaxFileReadBytes);
  }
  absl::StatusOr<std::string> read_at_most(size_t limit) override {
    absl::StatusOr<std::string> content = pki::ReadBoundedFile(path_, limit);
    if (!content.ok()) {
      // Python raises OSError (FileNotFoundError, IsADirectoryError, ...)
      // for a credential file it cannot read.
      return MakeError(ErrorKind::kOSError, content.status().code(),
                       content.status().message());
    }
    return content;
  }
  std::string name() const override { return absl::StrCat("file ", path_); }

 private:
  std::string path_;
};

class EnvironmentReader : public Reader {
 public:
  explicit EnvironmentReader(std::string variable)
      : variable_(std::move(variable)) {}
  absl::StatusOr<std::string> read() override {
    const char* value = std::getenv(variable_.c_str());
    if (value == nullptr) {
      return ReaderError(absl::StatusCode::kNotFound,
                         absl::StrCat("environment variable ", variable_,
                                      " is not set"));
    }
    return std::string(value);
  }
  std::string name() const override { return absl::StrCat("env ", variable_); }

 private:
  std::string variable_;
};

class FunctionReader : public Reader {
 public:
  FunctionReader(std::string name,
                 std::function<absl::StatusOr<std::string>()> fn)
      : name_(std::move(name)), fn_(std::move(fn)) {}
  absl::StatusOr<std::string> read() override {
    if (!fn_) {
      return ReaderError(absl::StatusCode::kInvalidArgument,
                         "callable reader has no function");
    }
    return fn_();
  }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  std::function<absl::StatusOr<std::string>()> fn_;
};

}  // namespace

std::shared_ptr<Reader> StringIO(std::string content) {
  return std::make_shared<StringReader>(std::move(content));
}

std::shared_ptr<Reader> FileReader(std::string path) {
  return std::make_shared<PathReader>(std::move(path));
}

std::shared_ptr<Reader> EnvReader(std::string variable) {
  return std::make_shared<EnvironmentReader>(std::move(variable));
}

std::shared_ptr<Reader> CallableReader(
    std::string name, std::function<absl::StatusOr<std::string>()> fn) {
  return std::make_shared<FunctionReader>(std::move(name), std::move(fn));
}

std::string Source::Describe() const {
  if (reader_ != nullptr) return reader_->name();
  if (has_path_) return absl::StrCat("file ", path_);
  return "nothing";
}

absl::StatusOr<SecureBytes> ReadSource(const Source& source,
                                       absl::string_view argument,
                                       size_t limit) {
  if (source.empty()) {
    return ReaderError(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(argument, ": no path or reader given"));
  }
  std::shared_ptr<Reader> reader =
      source.reader() != nullptr ? source.reader() : FileReader(source.path());
  absl::StatusOr<std::string> content = reader->read_at_most(limit);
  if (!content.ok()) {
    absl::Status s = content.status();
    return MakeError(GetErrorKind(s) == ErrorKind::kSSLError ? ErrorKind::kSSLError
                                                             : GetErrorKind(s),
                     s.code(),
                     absl::StrCat(argument, ": reading ", reader->name(),
                                  " failed: ", s.message()));
  }
  SecureBytes bytes(std::move(*content));
  if (bytes.empty()) {
    return ReaderError(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(argument, ": ", reader->name(),
                                    " returned no data"));
  }
  if (bytes.size() > limit) {
    size_t size = bytes.size();
    return ReaderError(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(argument, ": ", reader->name(), " returned ",
                                    size, " bytes, more than the limit of ",
                                    limit));
  }
  return bytes;
}

}  // namespace sslshim::shim
