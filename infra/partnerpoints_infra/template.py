"""Read template.yaml and turn it into plain CloudFormation with the SAM translator.

Everything that runs locally (tests, the local stack, the demo, the template checks) reads resources
from here, so a table or queue that is not in the template cannot exist anywhere.
"""

from __future__ import annotations

import argparse
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"

TRANSLATION_REGION = "us-east-1"

Template = dict[str, Any]


@cache
def _load(path: Path) -> Template:
    # yaml_parse understands the short intrinsic forms (!Ref, !GetAtt, !Sub) and emits the long ones.
    template: Template = yaml_parse(path.read_text(encoding="utf-8"))
    return template


def load_sam_template(path: Path = TEMPLATE_PATH) -> Template:
    """The SAM template as a dict with long-form intrinsics (a fresh copy, safe to mutate)."""
    return copy.deepcopy(_load(path.resolve()))


# Properties that name local code, and the placeholder bucket `sam package` would have uploaded it to.
_CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
_PACKAGE_BUCKET = "partnerpoints-local-artifacts"


class TemplateError(Exception):
    """template.yaml does not translate; the message lists every problem the translator found."""


def _as_packaged(template: Template) -> Template:
    """What `sam package` does before the transform: local code paths become S3 locations."""
    for resource in template.get("Resources", {}).values():
        code_property = _CODE_PROPERTIES.get(resource.get("Type", ""))
        properties = resource.get("Properties", {})
        location = properties.get(code_property)
        if isinstance(location, str) and not location.startswith("s3://"):
            properties[code_property] = f"s3://{_PACKAGE_BUCKET}/{location.strip('/')}"
    return template


@cache
def _translate(path: Path) -> Template:
    # The region only picks the ARN partition; the output refers to AWS::Region, never to this one.
    session = boto3.session.Session(region_name=TRANSLATION_REGION)
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), boto_session=session)
    # No managed policy is referenced by name (policies are written out per function), so the
    # translator never needs to look one up in IAM.
    try:
        translated: Template = translator.translate(
            sam_template=_as_packaged(load_sam_template(path)),
            parameter_values={},
            get_managed_policy_map=dict,
        )
    except InvalidDocumentException as error:
        problems = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"{path.name} does not translate: {problems}") from error
    return translated


def translate_template(path: Path = TEMPLATE_PATH) -> Template:
    """Plain CloudFormation, as `sam deploy` would hand it to CloudFormation (a fresh copy)."""
    return copy.deepcopy(_translate(path.resolve()))


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Translate template.yaml into plain CloudFormation JSON.")
    parser.add_argument("output", type=Path, help="where to write the translated template")
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(translate_template(args.template), indent=2) + "\n", encoding="utf-8")
    print(f"translated {args.template} -> {args.output}")


if __name__ == "__main__":
    main()
