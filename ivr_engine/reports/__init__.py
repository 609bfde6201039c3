"""Reports on the hotline's KPIs: queues per interval, agents, the IVR, the busy day, surveys."""
