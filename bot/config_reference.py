"""The configuration reference (``docs/config-reference.md``), written from the settings models
themselves: every section, key, type, default, description and ``NEWSBOT_*`` variable.

    python -m bot.config_reference > docs/config-reference.md

A test checks that the file in the repository is what this prints.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.config import ENV_PREFIX, NON_SETTING_VARIABLES, Settings

HEADER = """# Configuration reference

Every key of the config file (TOML), generated from the settings models in `bot/config.py` by
`python -m bot.config_reference` (a test checks that this file matches them). A scalar key
`[section] key` can also be set by the variable `NEWSBOT_SECTION_KEY` (lists: comma-separated);
variables win over the file. How the pieces fit together: [configuration](configuration.md).
"""


def _type(annotation: object) -> str:
    """A type as a reader of the TOML file thinks of it."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {_type(item)}"
    names: dict[object, str] = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.get_default(call_default_factory=True)
        return "(see below)" if value and isinstance(value, list) and isinstance(value[0], BaseModel) else f"`{value!r}`"
    if field.default is PydanticUndefined:
        return "required"
    return "(none)" if field.default is None else f"`{field.default!r}`"


def _table(model: type[BaseModel], variable_prefix: str | None) -> list[str]:
    lines = ["| key | type | default | variable | what it does |", "|---|---|---|---|---|"]
    for key, field in model.model_fields.items():
        variable = f"`{variable_prefix}{key.upper()}`" if variable_prefix else ""
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{key}` | {_type(field.annotation)} | {_default(field)} | {variable} | {description} |")
    return lines


def render() -> str:
    """The reference as Markdown."""
    out = [HEADER]
    for section, field in Settings.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if typing.get_origin(annotation) is list:
            (model,) = typing.get_args(annotation)
            out += [f"## `[[{section}]]`", "", field.description or "", "", *_table(model, None), ""]
        else:
            assert isinstance(annotation, type) and issubclass(annotation, BaseModel)  # a section: a model of its keys
            out += [f"## `[{section}]`", "", *_table(annotation, f"{ENV_PREFIX}{section.upper()}_"), ""]
    out += ["## Other variables", "", *(f"- `{name}`" for name in sorted(NON_SETTING_VARIABLES)), ""]
    return "\n".join(line for line in out).replace("\n\n\n", "\n\n")


if __name__ == "__main__":
    sys.stdout.write(render())
