#include "shim/py_value.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shim/peercert_test_util.h"
#include "testing/status_matchers.h"

namespace sslshim::shim {
namespace {

using ::sslshim::shim::testing::kPythonTupleHelper;
using ::sslshim::shim::testing::RunPython;
using ::sslshim::shim::testing::RunPythonLines;
using ::sslshim::shim::testing::WriteTestFile;

PyValue S(const std::string& s) { return PyValue::Str(s); }

TEST(PyValueTest, ScalarsRenderLikePython) {
  EXPECT_EQ(PyValue().ToPythonRepr(), "None");
  EXPECT_EQ(PyValue().ToJson(), "null");
  EXPECT_EQ(PyValue::Int(-42).ToPythonRepr(), "-42");
  EXPECT_EQ(PyValue::Int(3).ToJson(), "3");
  EXPECT_EQ(S("abc").ToPythonRepr(), "'abc'");
  EXPECT_EQ(S("abc").ToJson(), "\"abc\"");
}

TEST(PyValueTest, TuplesAndDicts) {
  EXPECT_EQ(PyValue::Tuple({}).ToPythonRepr(), "()");
  EXPECT_EQ(PyValue::Tuple({S("a")}).ToPythonRepr(), "('a',)");
  EXPECT_EQ(PyValue::Tuple({S("a")}).ToJson(), "[\"a\"]");
  EXPECT_EQ(PyValue::Tuple({S("a"), PyValue::Int(1)}).ToPythonRepr(), "('a', 1)");
  EXPECT_EQ(PyValue::Dict({}).ToPythonRepr(), "{}");
  PyValue d = PyValue::Dict(
      {{"k", PyValue::Tuple({PyValue::Tuple({S("x")})})}, {"n", PyValue()}});
  EXPECT_EQ(d.ToPythonRepr(), "{'k': (('x',),), 'n': None}");
  EXPECT_EQ(d.ToJson(), "{\"k\": [[\"x\"]], \"n\": null}");
}

TEST(PyValueTest, StringQuotingAndEscapes) {
  EXPECT_EQ(S("it's").ToPythonRepr(), "\"it's\"");
  EXPECT_EQ(S("say \"hi\"").ToPythonRepr(), "'say \"hi\"'");
  EXPECT_EQ(S("a'b\"c").ToPythonRepr(), "'a\\'b\"c'");
  EXPECT_EQ(S("\\ \n \r \t").ToPythonRepr(), "'\\\\ \\n \\r \\t'");
  EXPECT_EQ(S(std::string("a\0b\x7f", 4)).ToPythonRepr(), "'a\\x00b\\x7f'");
  EXPECT_EQ(S("\xc2\xa0 \xe2\x80\x8b \xf0\x9f\x98\x80").ToPythonRepr(),
            "'\\xa0 \\u200b \xf0\x9f\x98\x80'");
  EXPECT_EQ(S("\xf3\xa0\x80\x81").ToPythonRepr(), "'\\U000e0001'");
  EXPECT_EQ(S("caf\xc3\xa9").ToPythonRepr(), "'caf\xc3\xa9'");
}

TEST(PyValueTest, InvalidUtf8IsEscapedNotReplaced) {
  PyValue v = S("a\xff\xc3(\xed\xa0\x80");
  EXPECT_EQ(v.ToPythonRepr(), "'a\\xff\\xc3(\\xed\\xa0\\x80'");
  EXPECT_EQ(v.ToJson(), "\"a\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\"");
  EXPECT_EQ(S(std::string("\0\x01\"\\", 4)).ToJson(), "\"\\u0000\\u0001\\\"\\\\\"");
}

TEST(PyValueTest, GetSetKeepInsertionOrder) {
  PyValue d;
  d.Set("b", PyValue::Int(1));
  d.Set("a", PyValue::Int(2));
  d.Set("b", PyValue::Int(3));
  EXPECT_EQ(d.type(), PyValue::Type::kDict);
  EXPECT_EQ(d.ToPythonRepr(), "{'b': 3, 'a': 2}");
  ASSERT_NE(d.Get("a"), nullptr);
  EXPECT_EQ(d.Get("a")->integer(), 2);
  EXPECT_EQ(d.Get("zz"), nullptr);
  EXPECT_EQ(S("x").Get("a"), nullptr);
  PyValue s = S("x");
  s.Set("a", PyValue());
  EXPECT_EQ(s, S("x"));
  EXPECT_NE(PyValue::Dict({{"a", PyValue::Int(1)}}),
            PyValue::Dict({{"a", PyValue::Int(2)}}));
  EXPECT_EQ(PyValue::Tuple({S("a")}), PyValue::Tuple({S("a")}));
}

// Strings whose repr() exercises every branch of CPython's unicode_repr.
std::vector<std::string> TrickyStrings() {
  return {
      "",
      "plain",
      "it's",
      "say \"hi\"",
      "both ' and \"",
      "back\\slash",
      "tab\tnl\nret\r",
      std::string("nul\0byte", 8),
      "\x01\x1f\x7f",
      "\xc2\x80\xc2\x85\xc2\x9f",   // C1 controls.
      "\xc2\xa0nbsp \xc2\xad shy",  // Zs and Cf below U+0100.
      "\xc3\xa9 \xc3\xbc \xc3\x9f \xc3\xbf",
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",  // 日本語
      "\xe2\x80\x8b\xe2\x80\xa8\xe2\x80\xa9",  // U+200B U+2028 U+2029
      "\xe3\x80\x80 ideographic space",
      "\xef\xbb\xbf bom",
      "\xee\x80\x80 private use",
      "\xcd\xb8 unassigned",
      "e\xcc\x81 combining",
      "\xf0\x9f\x98\x80 emoji",
      "\xf0\x9f\xab\xa0 Unicode 14",
      "\xf0\x9f\xab\xb7 Unicode 15",
      "\xf3\xa0\x80\x81 tag",
      "\xf4\x8f\xbf\xbf max",
      "\xf0\x90\x80\x80 linear b",
      "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 \xe2\x80\x8f rtl",
      "mixed '\"\\\t\x0b\x0c",
  };
}

TEST(PyValueTest, ReprMatchesCPythonForTrickyStrings) {
  std::vector<std::string> hex_lines;
  std::vector<PyValue> items;
  for (const std::string& s : TrickyStrings()) {
    std::string hex;
    for (unsigned char c : s) absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
    hex_lines.push_back(hex.empty() ? "-" : hex);
    items.push_back(S(s));
  }
  std::string hex_path = WriteTestFile("tricky.hex", absl::StrJoin(hex_lines, "\n"));
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> lines,
      RunPythonLines("import sys\n"
                     "for line in open(sys.argv[1]).read().split('\\n'):\n"
                     "  s = '' if line == '-' else bytes.fromhex(line).decode()\n"
                     "  print(repr(s))\n",
                     {hex_path}));
  ASSERT_EQ(lines.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].ToPythonRepr(), lines[i]) << "string #" << i;
  }
}

TEST(PyValueTest, JsonRoundTripsThroughCPythonToTheSameRepr) {
  std::vector<PyValue> strings;
  for (const std::string& s : TrickyStrings()) strings.push_back(S(s));
  PyValue v = PyValue::Dict({
      {"strings", PyValue::Tuple(strings)},
      {"one", PyValue::Tuple({S("x")})},
      {"empty", PyValue::Tuple({})},
      {"nested", PyValue::Tuple({PyValue::Tuple({PyValue::Tuple({S("a"), S("b")})})})},
      {"int", PyValue::Int(-7)},
      {"none", PyValue()},
      {"it's \"key\"", PyValue::Dict({{"inner", PyValue::Int(1)}})},
  });
  std::string json_path = WriteTestFile("value.json", v.ToJson());
  ASSERT_OK_AND_ASSIGN(std::string out,
                       RunPython("import json, sys\n" + std::string(kPythonTupleHelper) +
                                     "print(repr(tup(json.loads(open(sys.argv[1], "
                                     "encoding='utf-8').read()))))\n",
                                 {json_path}));
  EXPECT_EQ(out, v.ToPythonRepr() + "\n");
}

TEST(PyValueTest, JsonWithInvalidUtf8StillParses) {
  PyValue v = PyValue::Tuple({S("ok\xff\xfe"), S("\xe2\x82"), S("\xc0\xaf")});
  std::string json_path = WriteTestFile("invalid.json", v.ToJson());
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      RunPython("import json, sys\n"
                "print(ascii(json.loads(open(sys.argv[1], 'rb').read())))\n",
                {json_path}));
  EXPECT_EQ(out, "['ok\\xff\\xfe', '\\xe2\\x82', '\\xc0\\xaf']\n");
}

}  // namespace
}  // namespace sslshim::shim
