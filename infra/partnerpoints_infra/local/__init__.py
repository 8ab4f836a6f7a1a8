"""The local stack: every resource, route, function, stream and schedule of template.yaml on one machine,
with no container. `partnerpoints local serve` starts it; see serve.py for how the parts fit."""
