"""risk.fuse: hazards fused into the daily risk and its monthly summary; the stacking model and its calibration."""
