"""fuzz_target: one libFuzzer binary of tests/fuzz.

Tagged manual, so `bazel build //...` / `bazel test //...` (gcc) skip it;
build with `--config=fuzz` (clang-14, see .bazelrc) under its own output
base, as tools/fuzz.sh does. The corpus lives in corpus/<name minus
_fuzzer>/.
"""

def fuzz_target(name, srcs, deps):
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = deps + [":fuzz_util"],
    )
