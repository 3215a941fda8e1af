using SegServe.Inference.Models;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Rendering;

/// <summary>
/// Overlay colours per class: the manifest's colour where given, otherwise the PASCAL VOC colour map (bit-interleaved
/// class id), which every segmentation user recognises and which stays distinct for 256 classes.
/// </summary>
public sealed class ClassPalette
{
    private readonly Rgb24[] _colors;
    private readonly bool[] _tinted;

    public ClassPalette(IReadOnlyList<ClassSpec> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        _colors = new Rgb24[classes.Count];
        _tinted = new bool[classes.Count];
        for (int i = 0; i < classes.Count; i++)
        {
            _colors[i] = ColorParser.TryParse(classes[i].Color, out Rgb24 color) ? color : VocColor(i);
            _tinted[i] = !IsBackground(classes[i].Name);
        }
    }

    public int Count => _colors.Length;

    public ReadOnlySpan<Rgb24> Colors => _colors;

    /// <summary>False for the background class, which an overlay leaves untinted so the photo stays readable.</summary>
    public ReadOnlySpan<bool> Tinted => _tinted;

    public Rgb24 this[int classId] => _colors[classId];

    /// <summary>Each class's colour as <c>#rrggbb</c>, by id.</summary>
    public IReadOnlyList<string> ColorTexts()
    {
        var texts = new string[_colors.Length];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = ColorParser.Format(_colors[i]);
        }

        return texts;
    }

    /// <summary>The PASCAL VOC colour of a class id.</summary>
    public static Rgb24 VocColor(int id)
    {
        int r = 0, g = 0, b = 0;
        int c = id;
        for (int shift = 7; shift >= 0 && c > 0; shift--)
        {
            r |= (c & 1) << shift;
            g |= ((c >> 1) & 1) << shift;
            b |= ((c >> 2) & 1) << shift;
            c >>= 3;
        }

        return new Rgb24((byte)r, (byte)g, (byte)b);
    }

    private static bool IsBackground(string name) =>
        name.Equals("background", StringComparison.OrdinalIgnoreCase)
        || name.Equals("__background__", StringComparison.OrdinalIgnoreCase)
        || name.Equals("bg", StringComparison.OrdinalIgnoreCase);
}
