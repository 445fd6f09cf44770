"""Experiments that re-train configs in this process, without Ray: diagnose and confirm."""
