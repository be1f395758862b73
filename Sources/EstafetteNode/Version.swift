/// The version `estafetted --version` and `node.status` report.
public enum EstafetteVersion {
    public static let string = "0.1.0"
}
