"""Placeholders: how one dashboard is written once and emitted in three formats.

Widgets, queries and alarms are built with ``{{name}}`` where a deploy-time value goes
(the function's name, the Region, an alarm's ARN) and ``{{#name}}`` where the value is a
number (a threshold). Each format then writes every placeholder its own way:

- plain JSON and ``deploy``: the value itself;
- CloudFormation: ``${Name}`` inside ``Fn::Sub``, after every literal ``${`` of the text
  (CloudWatch's dynamic labels, such as ``${PROP('Dim.route')}``) has been escaped as
  ``${!`` ("Fn::Sub", CloudFormation Template Reference: "To write a dollar sign and
  curly braces (${}) literally, add an exclamation point (!) after the open curly brace");
- Terraform: ``${name}`` in a ``templatefile`` template, after literal ``${`` and ``%{``
  have been escaped as ``$${`` and ``%%{`` ("templatefile function" and "String
  Templates", Terraform language docs), or an expression such as ``var.name`` in HCL.

A placeholder standing for a whole JSON value, ``"{{#name}}"`` with its quotes, becomes a
bare number. Escaping happens before substitution, so substituted expressions are never
escaped and literal text never substituted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PLACEHOLDER",
    "Param",
    "cfn_escape",
    "fill",
    "hcl_string",
    "names_in",
    "num",
    "number_text",
    "ph",
    "substitute",
    "tf_escape",
]

PLACEHOLDER = re.compile(r"\{\{(#?)([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)?)\}\}")
_WHOLE_NUMBER = re.compile(r'"\{\{#([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)?)\}\}"')


def ph(name: str) -> str:
    """The placeholder for the string value ``name``."""
    return "{{" + name + "}}"


def num(name: str) -> str:
    """The placeholder for the number ``name``."""
    return "{{#" + name + "}}"


@dataclass(frozen=True, slots=True)
class Param:
    """One deploy-time value and how each format refers to it.

    ``cfn`` is what goes inside ``${...}`` in ``Fn::Sub``: a parameter (``FunctionName``),
    a pseudo parameter (``AWS::Region``) or a resource attribute (``ErrorRateAlarm.Arn``);
    ``cfn_parameter`` declares the parameter, when it is one. ``tf`` is the HCL
    expression, ``tf_variable`` declares the variable, when it is one.
    """

    name: str
    value: str | float
    cfn: str
    tf: str
    description: str = ""
    cfn_parameter: Mapping[str, Any] | None = None
    tf_variable: Mapping[str, Any] | None = None

    @property
    def tf_template_name(self) -> str:
        """The variable's name inside the dashboard's ``templatefile`` template."""
        return self.name.replace(".", "_")

    def text(self) -> str:
        """The value as it reads in text: numbers without a needless ``.0``."""
        value = self.value
        return value if isinstance(value, str) else number_text(value)

    def cfn_ref(self) -> dict[str, Any]:
        """``Ref`` or ``Fn::GetAtt`` for a property that is this value alone."""
        if "." in self.cfn and not self.cfn.startswith("AWS::"):
            resource, attribute = self.cfn.split(".", 1)
            return {"Fn::GetAtt": [resource, attribute]}
        return {"Ref": self.cfn}


def number_text(value: float) -> str:
    """A number as JSON, HCL and people write it: ``3`` for 3.0, else its shortest repr."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def names_in(text: str) -> set[str]:
    """The placeholder names in ``text``."""
    return {match.group(2) for match in PLACEHOLDER.finditer(text)}


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the placeholders named in ``values``; leave the others for the format."""

    def one(match: re.Match[str]) -> str:
        return values.get(match.group(2), match.group(0))

    return PLACEHOLDER.sub(one, text)


def substitute(
    text: str,
    params: Mapping[str, Param],
    inline: Callable[[Param], str],
    whole: Callable[[Param], str] | None = None,
) -> str:
    """Write every placeholder: ``"{{#x}}"`` with ``whole`` (when given), the rest inline."""

    def lookup(name: str) -> Param:
        try:
            return params[name]
        except KeyError:
            raise KeyError(
                f"Expected a value for placeholder {name!r}; known: {', '.join(sorted(params))}"
            ) from None

    if whole is not None:
        text = _WHOLE_NUMBER.sub(lambda m: whole(lookup(m.group(1))), text)
    return PLACEHOLDER.sub(lambda m: inline(lookup(m.group(2))), text)


def cfn_escape(text: str) -> str:
    """Literal text made safe inside ``Fn::Sub``."""
    return text.replace("${", "${!")


def tf_escape(text: str) -> str:
    """Literal text made safe inside a Terraform string or template."""
    return text.replace("${", "$${").replace("%{", "%%{")


def hcl_string(text: str) -> str:
    """``text`` as a quoted HCL string literal (no interpolation)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{tf_escape(escaped)}"'
