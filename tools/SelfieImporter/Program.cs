using SegServe.Tools.SelfieImporter;
using SegServe.Tools.SelfieImporter.Conversion;
using SegServe.Tools.SelfieImporter.Onnx;

const string Usage = "Usage: SegServe.Tools.SelfieImporter --tflite PATH --output PATH/model.onnx";

string? tflitePath = null;
string? outputPath = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--tflite" when i + 1 < args.Length:
            tflitePath = args[++i];
            break;
        case "--output" when i + 1 < args.Length:
            outputPath = args[++i];
            break;
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        default:
            Console.Error.WriteLine($"Unexpected argument '{args[i]}'.");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

if (tflitePath is null || outputPath is null)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    OnnxModel model = SelfieModelImporter.Import(tflitePath);
    string? directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
    if (directory is not null)
    {
        Directory.CreateDirectory(directory);
    }

    OnnxWriter.Write(model, outputPath);
    Console.WriteLine($"{outputPath}: {SelfieModelImporter.Summarize(model)}");
    return 0;
}
catch (Exception exception) when (exception is UnsupportedOperatorException or InvalidDataException or IOException)
{
    Console.Error.WriteLine($"Import of {tflitePath} failed: {exception.Message}");
    return 1;
}
