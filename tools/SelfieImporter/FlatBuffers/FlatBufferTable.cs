using System.Buffers.Binary;
using System.Text;

namespace SegServe.Tools.SelfieImporter.FlatBuffers;

/// <summary>
/// A read-only view of one FlatBuffers table: just enough of the wire format to walk a TFLite model
/// (scalars, strings, vectors of scalars, vectors of tables, sub-tables).
/// </summary>
/// <remarks>
/// Layout reminder: a table starts with a signed offset back to its vtable; the vtable holds its own
/// size, the table size, then one 16-bit offset per field (0 = field absent, use the default).
/// Reference fields hold an unsigned offset relative to the field's own position.
/// </remarks>
public readonly struct FlatBufferTable
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private readonly int _position;

    private FlatBufferTable(ReadOnlyMemory<byte> buffer, int position)
    {
        _buffer = buffer;
        _position = position;
    }

    /// <summary>Opens the root table of a buffer, checking the 4-byte file identifier when one is given.</summary>
    public static FlatBufferTable OpenRoot(ReadOnlyMemory<byte> buffer, string? fileIdentifier)
    {
        if (buffer.Length < 8)
        {
            throw new InvalidDataException("The buffer is too short to be a FlatBuffer.");
        }

        if (fileIdentifier is not null)
        {
            string actual = Encoding.ASCII.GetString(buffer.Span.Slice(4, 4));
            if (actual != fileIdentifier)
            {
                throw new InvalidDataException($"Expected FlatBuffer file identifier '{fileIdentifier}' but found '{actual}'.");
            }
        }

        int rootPosition = ReadOffsetTarget(buffer.Span, 0);
        return new FlatBufferTable(buffer, rootPosition);
    }

    private ReadOnlySpan<byte> Span => _buffer.Span;

    /// <summary>The absolute position of a field's data, or -1 when the field is absent.</summary>
    private int FieldPosition(int fieldIndex)
    {
        int vtablePosition = _position - BinaryPrimitives.ReadInt32LittleEndian(Span[_position..]);
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(Span[vtablePosition..]);
        int entryOffset = 4 + (2 * fieldIndex);
        if (entryOffset + 2 > vtableSize)
        {
            return -1;
        }

        int fieldOffset = BinaryPrimitives.ReadUInt16LittleEndian(Span[(vtablePosition + entryOffset)..]);
        return fieldOffset == 0 ? -1 : _position + fieldOffset;
    }

    private static int ReadOffsetTarget(ReadOnlySpan<byte> span, int position)
    {
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(span[position..]);
        long target = position + (long)offset;
        if (target < 0 || target >= span.Length)
        {
            throw new InvalidDataException($"FlatBuffer offset at {position} points outside the buffer.");
        }

        return (int)target;
    }

    public byte GetByte(int fieldIndex, byte defaultValue = 0)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? defaultValue : Span[position];
    }

    public bool GetBool(int fieldIndex, bool defaultValue = false)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? defaultValue : Span[position] != 0;
    }

    public int GetInt32(int fieldIndex, int defaultValue = 0)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? defaultValue : BinaryPrimitives.ReadInt32LittleEndian(Span[position..]);
    }

    public uint GetUInt32(int fieldIndex, uint defaultValue = 0)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? defaultValue : BinaryPrimitives.ReadUInt32LittleEndian(Span[position..]);
    }

    public ulong GetUInt64(int fieldIndex, ulong defaultValue = 0)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? defaultValue : BinaryPrimitives.ReadUInt64LittleEndian(Span[position..]);
    }

    public string? GetString(int fieldIndex)
    {
        int position = FieldPosition(fieldIndex);
        if (position < 0)
        {
            return null;
        }

        int stringPosition = ReadOffsetTarget(Span, position);
        int length = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Span[stringPosition..]));
        return Encoding.UTF8.GetString(Span.Slice(stringPosition + 4, length));
    }

    public FlatBufferTable? GetTable(int fieldIndex)
    {
        int position = FieldPosition(fieldIndex);
        return position < 0 ? null : new FlatBufferTable(_buffer, ReadOffsetTarget(Span, position));
    }

    /// <summary>The raw bytes of a vector of 1-byte elements (for example a TFLite buffer's data).</summary>
    public ReadOnlyMemory<byte> GetByteVector(int fieldIndex)
    {
        (int start, int count) = GetVector(fieldIndex);
        return count == 0 ? ReadOnlyMemory<byte>.Empty : _buffer.Slice(start, count);
    }

    public int[] GetInt32Vector(int fieldIndex)
    {
        (int start, int count) = GetVector(fieldIndex);
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(Span[(start + (4 * i))..]);
        }

        return values;
    }

    public FlatBufferTable[] GetTableVector(int fieldIndex)
    {
        (int start, int count) = GetVector(fieldIndex);
        var tables = new FlatBufferTable[count];
        for (int i = 0; i < count; i++)
        {
            tables[i] = new FlatBufferTable(_buffer, ReadOffsetTarget(Span, start + (4 * i)));
        }

        return tables;
    }

    /// <summary>The absolute position of a vector's first element and its element count; (0, 0) when absent.</summary>
    private (int Start, int Count) GetVector(int fieldIndex)
    {
        int position = FieldPosition(fieldIndex);
        if (position < 0)
        {
            return (0, 0);
        }

        int vectorPosition = ReadOffsetTarget(Span, position);
        int count = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Span[vectorPosition..]));
        return (vectorPosition + 4, count);
    }
}
