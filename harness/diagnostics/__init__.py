"""Shape diagnostics (log-linearity), slope decomposition, dependence tests and the budget comparison."""
