"""Training and prediction: TRL recipes (SFT, DPO, GRPO), reward functions, curriculum samplers, and
``predict`` — benchmark predictions from any model with execution-based voting and abstention."""
