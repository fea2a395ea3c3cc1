public enum QueryPlaceholder {}
