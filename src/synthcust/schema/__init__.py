"""Column kinds, roles and PII marks of a customer table; inferred, edited and saved as JSON."""

from synthcust.schema.model import (
    SCHEMA_VERSION,
    Column,
    Kind,
    PIIKind,
    PIIPolicy,
    Role,
    Schema,
)

__all__ = ["SCHEMA_VERSION", "Column", "Kind", "PIIKind", "PIIPolicy", "Role", "Schema"]
