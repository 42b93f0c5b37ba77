"""Service items (服务项目): a vendor's catalogue of activities it offers to schools."""
