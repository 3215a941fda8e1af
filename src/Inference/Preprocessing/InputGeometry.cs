namespace SegServe.Inference.Preprocessing;

/// <summary>
/// Where the original image sits inside the network input: kept with the request so that outputs can be mapped
/// back (letterbox and alignment padding removed, scale undone).
/// </summary>
/// <param name="OriginalWidth">Width of the decoded, orientation-corrected image.</param>
/// <param name="OriginalHeight">Height of the decoded, orientation-corrected image.</param>
/// <param name="InputWidth">Width of the network input tensor.</param>
/// <param name="InputHeight">Height of the network input tensor.</param>
/// <param name="ContentX">Left edge of the resized image inside the input (letterbox padding before it).</param>
/// <param name="ContentY">Top edge of the resized image inside the input.</param>
/// <param name="ContentWidth">Width of the resized image inside the input.</param>
/// <param name="ContentHeight">Height of the resized image inside the input.</param>
public readonly record struct InputGeometry(
    int OriginalWidth,
    int OriginalHeight,
    int InputWidth,
    int InputHeight,
    int ContentX,
    int ContentY,
    int ContentWidth,
    int ContentHeight)
{
    /// <summary>True when the image is resized on the way in (not only padded).</summary>
    public bool Resizes => ContentWidth != OriginalWidth || ContentHeight != OriginalHeight;

    /// <summary>True when some of the input tensor is padding.</summary>
    public bool HasPadding => ContentX != 0 || ContentY != 0 || ContentWidth != InputWidth || ContentHeight != InputHeight;
}
