"""Top-down phase: the controller, verification, the runner and the exporters."""

from environment.trajectory import CheckResult, Message, Termination, ToolCall, ToolResult, Trajectory, Usage

__all__ = ["CheckResult", "Message", "Termination", "ToolCall", "ToolResult", "Trajectory", "Usage"]
