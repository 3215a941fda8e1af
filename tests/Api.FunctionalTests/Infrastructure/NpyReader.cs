using System.Text;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>Reads the small NumPy <c>.npy</c> class maps of the format fixtures (uint8/int64, C order).</summary>
public static class NpyReader
{
    public static (int Height, int Width, int[] Values) ReadClassMap(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not an .npy file.");
        }

        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int headerStart = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path} is Fortran-ordered.");
        }

        string shape = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        shape = shape[..shape.IndexOf(')', StringComparison.Ordinal)];
        string[] dims = shape.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int height = int.Parse(dims[^2], System.Globalization.CultureInfo.InvariantCulture);
        int width = int.Parse(dims[^1], System.Globalization.CultureInfo.InvariantCulture);
        int data = headerStart + headerLength;
        var values = new int[height * width];
        if (header.Contains("'|u1'", StringComparison.Ordinal))
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = bytes[data + i];
            }
        }
        else if (header.Contains("'<i8'", StringComparison.Ordinal))
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (int)BitConverter.ToInt64(bytes, data + (i * 8));
            }
        }
        else
        {
            throw new InvalidDataException($"{path}: unsupported dtype in header {header}.");
        }

        return (height, width, values);
    }

    /// <summary>Reads a float32 or int64 array of any shape as doubles, with its shape.</summary>
    public static (int[] Shape, double[] Values) ReadArray(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int headerStart = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        string shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        shapeText = shapeText[..shapeText.IndexOf(')', StringComparison.Ordinal)];
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        int count = shape.Aggregate(1, (a, b) => a * b);
        int data = headerStart + headerLength;
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = header.Contains("'<f4'", StringComparison.Ordinal) ? BitConverter.ToSingle(bytes, data + (i * 4))
                : header.Contains("'<i8'", StringComparison.Ordinal) ? BitConverter.ToInt64(bytes, data + (i * 8))
                : throw new InvalidDataException($"{path}: unsupported dtype in header {header}.");
        }

        return (shape, values);
    }
}
