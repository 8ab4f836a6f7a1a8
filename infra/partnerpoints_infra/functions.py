"""Load and call the template's functions in this process, as Lambda would: their code, their handler,
their environment and a Lambda context built from their template settings."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from partnerpoints_infra.provision import LOCAL_ACCOUNT_ID, LocalStack
from partnerpoints_infra.template import resources_of_type

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    module: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    layer_dirs: tuple[Path, ...] = ()

    @property
    def handler_path(self) -> str:
        return f"{self.module}.{self.handler}"


def function_specs(stack: LocalStack) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the SAM template, with Globals applied."""
    globals_ = stack.sam_template.get("Globals", {}).get("Function", {})
    root = stack.template_path.parent
    layers = resources_of_type(stack.sam_template, "AWS::Serverless::LayerVersion")
    specs = {}
    for logical_id, resource in resources_of_type(stack.sam_template, "AWS::Serverless::Function").items():
        properties = {**globals_, **resource["Properties"]}
        module, handler = properties["Handler"].rsplit(".", 1)
        # Only this template's own layers have local code; a layer given by ARN is not emulated.
        layer_dirs = tuple(
            root / layers[layer["Ref"]]["Properties"]["ContentUri"]
            for layer in properties.get("Layers", [])
            if isinstance(layer, dict) and layer.get("Ref") in layers
        )
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=root / properties["CodeUri"],
            layer_dirs=layer_dirs,
            module=module,
            handler=handler,
            memory_mb=int(properties.get("MemorySize", 128)),
            timeout_seconds=int(properties.get("Timeout", 3)),
        )
    return specs


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    region: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_module(spec: FunctionSpec, *, fresh: bool = False) -> ModuleType:
    # Each function's app.py is loaded under its own name so that two functions never share a module.
    name = f"partnerpoints_function_{spec.logical_id}"
    if name in sys.modules and not fresh:
        return sys.modules[name]
    path = spec.code_dir / f"{spec.module.replace('.', '/')}.py"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.logical_id} from {path}")
    module = importlib.util.module_from_spec(module_spec)
    if not fresh:
        sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


def forget_execution_environments() -> None:
    """What a new deployment starts without, in this process: every module-level cache of the shared
    package (settings, clients, stores bound to tables, the signing key). Functions run in-process on
    a fresh stack must not reach the tables of the stack before it."""
    for name, module in list(sys.modules.items()):
        if name != "partnerpoints" and not name.startswith("partnerpoints."):
            continue
        for value in list(vars(module).values()):
            if getattr(value, "__module__", None) == name and callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def cold_start(stack: LocalStack, logical_id: str, variables: dict[str, str]) -> ModuleType:
    """Run one function's init (the import of its app.py) anew with exactly these variables, as a new
    execution environment would; what the init raises is what Lambda would report."""
    spec = function_specs(stack)[logical_id]
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(variables)
    try:
        return _load_module(spec, fresh=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke(stack: LocalStack, logical_id: str, event: dict[str, Any]) -> Any:
    """Run one function's handler with its template environment and a fresh Lambda context."""
    spec = function_specs(stack)[logical_id]
    variables = {**stack.runtime_environment(logical_id), "AWS_LAMBDA_FUNCTION_NAME": logical_id}
    with _environment(variables):
        handler: Handler = getattr(_load_module(spec), spec.handler)
        context = LocalLambdaContext(
            function_name=logical_id,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
            region=stack.endpoints.region,
        )
        return handler(event, context)
