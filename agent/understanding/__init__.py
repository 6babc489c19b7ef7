"""Understanding user messages: text -> typed ``Intent``.

``RuleInterpreter`` works offline; ``LLMInterpreter`` asks an OpenAI-compatible
model for the same ``Intent`` and falls back to the rules on any failure.
"""

from agent.understanding.llm import LLMInterpreter
from agent.understanding.rules import RuleInterpreter, parse_price_mist
from flows.intents import Intent, IntentKind

__all__ = ["Intent", "IntentKind", "LLMInterpreter", "RuleInterpreter", "parse_price_mist"]
