using System.Text.RegularExpressions;

namespace SegServe.Inference.Models;

/// <summary>
/// Removes file-system paths from messages that reach users (a model's failure reason, why CUDA is unavailable):
/// ONNX Runtime and the native loader name the absolute paths they tried, which tell a client about the server's
/// layout and nothing it can act on. The file name is kept (<c>libcudnn.so.9</c>, <c>model.onnx</c>); the full
/// message goes to the log.
/// </summary>
public static partial class PathRedaction
{
    /// <summary>The message with every absolute path cut down to its last segment.</summary>
    public static string Redact(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string redacted = UnixPath().Replace(message, static m => m.Groups["file"].Value);
        return WindowsPath().Replace(redacted, static m => m.Groups["file"].Value);
    }

    // A slash-rooted path of at least two segments — /dir/file, /a/b/c.so.13 — that is not one of this service's own
    // URL paths (/v1/…, /health/…, /swagger/…) nor part of a URL (://host/…).
    [GeneratedRegex(@"(?<![\w.:/~-])(?!/(?:v\d+|health|swagger)/)(?:/[^/\s'""`:;,()\[\]]+)+/(?<file>[^/\s'""`:;,()\[\]]+)")]
    private static partial Regex UnixPath();

    [GeneratedRegex(@"(?<![\w])[A-Za-z]:\\(?:[^\\\s'""`:;,()\[\]]+\\)*(?<file>[^\\\s'""`:;,()\[\]]+)")]
    private static partial Regex WindowsPath();
}
