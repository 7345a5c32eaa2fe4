# -*- Python -*-
# lit configuration of the nats regression tests (check-nats-lit).

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "NATS"
# lit's own shell: the RUN lines need nothing of bash, and lit 23 (PyPI's)
# refuses the external one.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nats_obj_root, "test")
# pytest runs test/python itself (check-nats-python).
config.excludes = ["python", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%nats_plugin", config.nats_plugin))
# The example layer graph the build writes (examples/CMakeLists.txt), and the
# generator of every other size and element type (python/nats/layer.py).
config.substitutions.append(("%nats_l_layer_example", config.nats_example_graph))
config.substitutions.append(
    ("%nats_l_layer_graph", f"env PYTHONPATH={config.nats_python_packages} "
                            f"{config.python_executable} -m nats.layer"))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not` and `count` are used verbatim: they must be on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# nats tools come first; stock mlir-opt (for the plugin tests), FileCheck and
# friends from the LLVM installation.
tool_dirs = [config.nats_tools_dir, config.llvm_tools_dir]
tools = ["nats-opt", "nats-run", ToolSubst("mlir-opt", unresolved="fatal")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The GPU path: a cubin needs ptxas (else the tests check PTX); running needs
# a GPU, so those tests are UNSUPPORTED (and listed so) where there is none.
if shutil.which("ptxas") or os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
try:
    gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    if gpus.returncode == 0 and "GPU" in gpus.stdout:
        config.available_features.add("cuda-gpu")
except OSError:
    pass

# Compiled products of the tests stay in the build tree.
config.environment["NATS_CACHE_DIR"] = os.path.join(config.nats_obj_root, "nats-cache")
