namespace SegServe.Inference.Imaging;

/// <summary>Why an upload was refused; the host maps each reason to an HTTP status.</summary>
public enum ImageRejection
{
    /// <summary>The upload is larger than the byte limit (413).</summary>
    TooManyBytes,

    /// <summary>The image has more pixels than the pixel limit (413).</summary>
    TooManyPixels,

    /// <summary>The bytes are not in a supported image format (415).</summary>
    UnsupportedFormat,

    /// <summary>The file has a known format but is damaged or truncated (400).</summary>
    Corrupt,

    /// <summary>The upload is empty (400).</summary>
    Empty,

    /// <summary>The format is one the service reads but this deployment does not accept (415).</summary>
    FormatNotAccepted,

    /// <summary>The image would cost more to decode than its budget allows: frames, decode time (422).</summary>
    TooComplex,
}

/// <summary>An upload that cannot be segmented, with a message that names the problem.</summary>
public sealed class ImageRejectedException : Exception
{
    public ImageRejectedException()
    {
    }

    public ImageRejectedException(string message)
        : base(message)
    {
    }

    public ImageRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ImageRejectedException(ImageRejection reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public ImageRejection Reason { get; }
}
