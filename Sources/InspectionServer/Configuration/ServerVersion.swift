// The `pcb` program's version, stored with every verdict (Provenance) and shown by
// /api/system-status: raise it with each release that changes how frames are judged.

public enum ServerVersion {
    public static let current = "0.27.0"
}
