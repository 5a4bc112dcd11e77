"""Synthesize verified text-to-SQL data from any database: sample SQL over the schema graph, verify
it by execution, phrase questions (rule-based or LLM), add reasoning, dedup and decontaminate."""
