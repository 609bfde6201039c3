"""The skill-based ACD: agents, skills, queues and routing (built on the IVR engine)."""
